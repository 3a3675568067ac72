//! Maintenance: the host stops taking new VMs and its VMs migrate to other
//! hosts (power-off on the old host first, power-on on the new one no
//! earlier); it has entered when placement has nothing left on it.

use super::{Placement, VmEntry};
use crate::actor::{Context, Note};
use crate::event::Event;
use crate::model::{HostId, SimTime, VmId};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Maintenance {
    No,
    /// Evacuating: no new VMs, some still here.
    Entering,
    /// Empty, out of service.
    In,
}

impl Placement {
    pub(super) fn maintenance_begin<C: Context>(&mut self, host: HostId, ctx: &mut C) {
        let view = &mut self.hosts[host.0 as usize];
        if view.maintenance != Maintenance::No {
            return;
        }
        view.maintenance = Maintenance::Entering;
        let vms: Vec<VmId> = view.vms.iter().copied().collect();
        ctx.note(Note::MaintenanceBegan { host });
        self.refresh(host);
        for vm in vms {
            self.migrate(vm, ctx);
        }
        self.settle_maintenance(host);
    }

    /// A host entering maintenance has entered once placement has nothing
    /// left on it, not even a deleted VM about to start there.
    pub(super) fn settle_maintenance(&mut self, host: HostId) {
        let view = &self.hosts[host.0 as usize];
        if view.maintenance == Maintenance::Entering
            && view.vms.is_empty()
            && !self.releasing.values().any(|(h, _, _)| *h == host.0)
        {
            self.hosts[host.0 as usize].maintenance = Maintenance::In;
        }
    }

    /// Moves a VM to another host: the power-off reaches the old host no
    /// earlier than its power-on did, and the new power-on no earlier than
    /// that (sent after it, so it is delivered after it at a tie).
    pub(super) fn migrate<C: Context>(&mut self, vm: VmId, ctx: &mut C) {
        let Some((size, owner)) = self.vms.get(vm).map(|e| (e.size, e.owner)) else {
            return;
        };
        let target = match self.rule_of(vm) {
            Some(rule) if !rule.restart => None, // a pod's CRX is not migrated
            Some(rule) => self.select_constrained(vm, &size, rule),
            None => self.select_plain(vm, &size, owner).ok(),
        };
        let Some(target) = target else {
            return; // stays; the host keeps entering
        };
        let entry = self.vms.remove(vm).expect("checked above");
        self.release(vm, &entry);
        let off_delay = entry.on_at.since(ctx.now());
        ctx.send(
            self.host_actors[entry.host as usize],
            off_delay,
            Event::VmPowerOff { vm },
        );
        let moved = VmEntry {
            host: target.0,
            on_at: SimTime::ZERO,
            ..entry
        };
        self.migrated_from.insert(vm, HostId(entry.host));
        self.place_on(vm, moved, off_delay, ctx);
        ctx.note(Note::VmMigrated { vm });
    }
}
