//! vCenter's placement for one datacenter: admission (does any host have
//! room?) and the host choice by policy (see [`crate::placement`]), then a
//! power-on to the chosen host. It keeps its own view of every host's usage,
//! which is what DRS decides on in the real system.
//!
//! When a host goes down, its VMs are re-placed at once in VM id order; a VM
//! that fits nowhere is lost and its owner is told.

use crate::actor::{Context, Note};
use crate::event::Event;
use crate::model::{ActorId, Dist, HostId, Resources, SimDuration, SimTime, VmId, VmTable};
use crate::placement::PlacementIndex;
use std::collections::BTreeSet;

/// Placement's view of one host.
struct HostView {
    actor: ActorId,
    used: Resources,
    up: bool,
    incarnation: u32,
    /// VMs placed here, in id order (the order of re-placement).
    vms: BTreeSet<VmId>,
}

struct VmEntry {
    owner: ActorId,
    host: u32,
    size: Resources,
    /// When the power-on reaches the host. A power-off is never sent to
    /// arrive before it, or the host would start a VM already deleted.
    on_at: SimTime,
}

pub struct Placement {
    index: PlacementIndex,
    hosts: Vec<HostView>,
    vms: VmTable<VmEntry>,
    power_on_delay: Dist,
}

impl Placement {
    /// `hosts`: (actor, capacity) per host, indexed by `HostId`.
    pub fn new(
        index: PlacementIndex,
        hosts: &[(ActorId, Resources)],
        power_on_delay: Dist,
    ) -> Self {
        let hosts = hosts
            .iter()
            .map(|&(actor, _capacity)| HostView {
                actor,
                used: Resources::ZERO,
                up: true,
                incarnation: 0,
                vms: BTreeSet::new(),
            })
            .collect();
        Placement {
            index,
            hosts,
            vms: VmTable::default(),
            power_on_delay,
        }
    }

    /// Where placement believes each VM is, in VM id order.
    pub fn assignments(&self) -> impl Iterator<Item = (VmId, HostId)> + '_ {
        self.vms.iter().map(|(vm, e)| (vm, HostId(e.host)))
    }

    pub fn handle<C: Context>(&mut self, event: Event, ctx: &mut C) {
        match event {
            Event::VmRequested { vm, size } => {
                ctx.note(Note::VmRequested { vm, size });
                let owner = ctx.sender();
                if !self.place(vm, size, owner, ctx) {
                    ctx.note(Note::VmRejected { vm });
                    ctx.send(owner, SimDuration::ZERO, Event::VmRejected { vm });
                }
            }
            Event::VmDeleteRequested { vm } => self.delete(vm, ctx),
            Event::HostDown { host } => self.host_down(host, ctx),
            Event::HostUp { host, incarnation } => {
                let view = &mut self.hosts[host.0 as usize];
                view.up = true;
                view.incarnation = incarnation;
                self.index.update(host, view.used, true);
            }
            other => tracing::warn!(kind = other.kind(), "placement ignored an unexpected event"),
        }
    }

    /// Chooses a host and sends the power-on; false when nothing fits.
    fn place<C: Context>(
        &mut self,
        vm: VmId,
        size: Resources,
        owner: ActorId,
        ctx: &mut C,
    ) -> bool {
        let Some(host) = self.index.select(&size) else {
            return false;
        };
        let view = &mut self.hosts[host.0 as usize];
        view.used += size;
        view.vms.insert(vm);
        self.index.update(host, view.used, view.up);
        let (actor, incarnation) = (view.actor, view.incarnation);
        let delay = SimDuration(ctx.rng().sample(&self.power_on_delay));
        let on_at = ctx.now().saturating_add(delay);
        self.vms.insert(
            vm,
            VmEntry {
                owner,
                host: host.0,
                size,
                on_at,
            },
        );
        ctx.send(
            actor,
            delay,
            Event::VmPowerOn {
                vm,
                size,
                incarnation,
            },
        );
        true
    }

    fn delete<C: Context>(&mut self, vm: VmId, ctx: &mut C) {
        let Some(entry) = self.vms.remove(vm) else {
            return;
        };
        self.release(vm, &entry);
        ctx.note(Note::VmDeleted { vm });
        // Same arrival time as the power-on at worst, and queued after it.
        let delay = entry.on_at.since(ctx.now());
        ctx.send(
            self.hosts[entry.host as usize].actor,
            delay,
            Event::VmPowerOff { vm },
        );
    }

    /// Takes a VM's resources back from its host's view.
    fn release(&mut self, vm: VmId, entry: &VmEntry) {
        let view = &mut self.hosts[entry.host as usize];
        view.used -= entry.size;
        view.vms.remove(&vm);
        self.index.update(HostId(entry.host), view.used, view.up);
    }

    fn host_down<C: Context>(&mut self, host: HostId, ctx: &mut C) {
        let view = &mut self.hosts[host.0 as usize];
        if !view.up {
            return;
        }
        view.up = false;
        view.used = Resources::ZERO;
        let displaced = std::mem::take(&mut view.vms);
        self.index.update(host, Resources::ZERO, false);
        for vm in displaced {
            let entry = self.vms.remove(vm).expect("displaced vm is placed");
            if !self.place(vm, entry.size, entry.owner, ctx) {
                ctx.note(Note::VmLost { vm });
                ctx.send(entry.owner, SimDuration::ZERO, Event::VmLost { vm });
            }
        }
    }
}
