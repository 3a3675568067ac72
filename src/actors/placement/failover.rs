//! Host failures: without `ha:`, a failed host's VMs are re-placed at once
//! in VM id order and a VM that fits nowhere is lost; with `ha:`, they are
//! restarted after the restart delay, high priority first, on dedicated
//! failover hosts first.

use super::{Maintenance, Placement, VmEntry};
use crate::actor::{Context, Note};
use crate::event::Event;
use crate::model::{ActorId, Dist, HostId, Resources, SimDuration, SimTime, VmId};
use crate::scenario::RestartPriority;

/// What placement needs of the `ha:` section.
#[derive(Clone, Debug)]
pub struct HaPlacement {
    pub restart_delay: Dist,
    /// Admission control, by cluster: the total size of the VMs admitted
    /// in a cluster may not pass its entry.
    pub admission_capacity: Vec<Option<Resources>>,
    pub failover_hosts: Vec<HostId>,
}

/// A VM waiting for its HA restart.
pub(super) struct Restart {
    pub(super) owner: ActorId,
    pub(super) size: Resources,
    pub(super) priority: RestartPriority,
    pub(super) batch: u64,
}

impl Placement {
    pub(super) fn host_down<C: Context>(&mut self, host: HostId, ctx: &mut C) {
        let view = &mut self.hosts[host.0 as usize];
        if !view.up {
            return;
        }
        view.up = false;
        view.used = Resources::ZERO;
        let displaced = std::mem::take(&mut view.vms);
        if view.maintenance == Maintenance::Entering {
            view.maintenance = Maintenance::In;
        }
        self.forget_releases_on(host);
        self.refresh(host);
        let displaced = self.displace_constrained(displaced, ctx);
        let Some(ha) = &self.ha else {
            for vm in displaced {
                let entry = self.vms.remove(vm).expect("displaced vm is placed");
                if self
                    .place(vm, entry.size, entry.owner, entry.priority, ctx)
                    .is_err()
                {
                    self.lose(vm, entry.owner, entry.size, ctx);
                }
            }
            return;
        };
        let delay = SimDuration(ctx.sample(&ha.restart_delay));
        let batch = self.next_batch;
        self.next_batch += 1;
        self.batches.insert(batch, ctx.now());
        for vm in displaced {
            let entry = self.vms.remove(vm).expect("displaced vm is placed");
            self.restarting.insert(
                vm,
                Restart {
                    owner: entry.owner,
                    size: entry.size,
                    priority: entry.priority,
                    batch,
                },
            );
        }
        ctx.send(ctx.me(), delay, Event::HaRestart { batch });
    }

    /// A failed host's view starts again from nothing: its deleted VMs'
    /// room is not given back a second time; only admission forgets them.
    pub(super) fn forget_releases_on(&mut self, host: HostId) {
        let on_host: Vec<(SimTime, VmId)> = (self.releasing.iter())
            .filter(|(_, (h, _, _))| *h == host.0)
            .map(|(k, _)| *k)
            .collect();
        for key in on_host {
            if let Some((_, size, owner)) = self.releasing.remove(&key) {
                self.unadmit(key.1, owner, size);
            }
        }
    }

    pub(super) fn lose<C: Context>(
        &mut self,
        vm: VmId,
        owner: ActorId,
        size: Resources,
        ctx: &mut C,
    ) {
        self.forget_rule(vm);
        self.unadmit(vm, owner, size);
        if vm.0 < crate::model::SPARSE_BASE {
            let cluster = self.scope.profile(owner).cluster as usize;
            self.clusters[cluster].counts.lost += 1;
        }
        ctx.note(Note::VmLost { vm });
        ctx.send(owner, SimDuration::ZERO, Event::VmLost { vm });
    }

    /// Restarts a failure's VMs: high priority first, then VM id; dedicated
    /// failover hosts first, then the policy's choice.
    pub(super) fn restart_batch<C: Context>(&mut self, batch: u64, ctx: &mut C) {
        let Some(down_at) = self.batches.remove(&batch) else {
            return;
        };
        let mut order: Vec<(std::cmp::Reverse<RestartPriority>, VmId)> = self
            .restarting
            .iter()
            .filter(|(_, r)| r.batch == batch)
            .map(|(vm, r)| (std::cmp::Reverse(r.priority), *vm))
            .collect();
        order.sort();
        for (_, vm) in order {
            let r = self.restarting.remove(&vm).expect("listed restart");
            let failover = if self.rule_of(vm).is_some() {
                None
            } else {
                self.failover_with_room(&r.size, r.owner)
            };
            let placed = match failover {
                Some(host) => {
                    let entry = VmEntry {
                        owner: r.owner,
                        host: host.0,
                        size: r.size,
                        on_at: SimTime::ZERO,
                        priority: r.priority,
                    };
                    self.place_on(vm, entry, SimDuration::ZERO, ctx);
                    true
                }
                None => (self.place(vm, r.size, r.owner, r.priority, ctx)).is_ok(),
            };
            if placed {
                let after = ctx.now().since(down_at);
                ctx.note(Note::VmRestarted { vm, after });
            } else {
                self.lose(vm, r.owner, r.size, ctx);
            }
        }
    }

    /// A dedicated failover host of the owner's cluster with room, for a
    /// VM under no DRS rule (a rule's VMs go where the rule allows).
    pub(super) fn failover_with_room(&self, size: &Resources, owner: ActorId) -> Option<HostId> {
        let ha = self.ha.as_ref()?;
        let profile = self.scope.profile(owner);
        if !profile.rules.is_empty() {
            return None;
        }
        let cluster = &self.clusters[profile.cluster as usize];
        ha.failover_hosts.iter().copied().find(|h| {
            let v = &self.hosts[h.0 as usize];
            cluster.contains(*h)
                && v.up
                && v.maintenance == Maintenance::No
                && (v.used + *size).fits_in(&v.capacity)
        })
    }
}
