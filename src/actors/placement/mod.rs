//! vCenter's placement for one datacenter: admission (does any host have
//! room? does HA admission control allow it?) and the host choice by policy
//! (see [`crate::placement`]), then a power-on to the chosen host. It keeps
//! its own view of every host's usage, which is what DRS decides on in the
//! real system.
//!
//! This file holds the view and the life of a plain VM (request, power-on,
//! deletion); [`failover`] handles failed hosts and HA restarts,
//! [`maintenance`] evacuations, and [`constrained`] the Supervisor's
//! workloads, which carry a placement rule.

mod constrained;
mod failover;
mod maintenance;

pub use failover::HaPlacement;
pub use maintenance::Maintenance;

use crate::actor::{Actor, Context, Note};
use crate::api::msg::{PlaceRule, SupMsg};
use crate::event::{Event, RejectReason};
use crate::model::{ActorId, Dist, HostId, Resources, SimDuration, SimTime, VmId, VmSet, VmTable};
use crate::placement::PlacementIndex;
use crate::scenario::RestartPriority;
use failover::Restart;
use std::collections::BTreeMap;

/// Placement's view of one host.
struct HostView {
    capacity: Resources,
    used: Resources,
    up: bool,
    incarnation: u32,
    /// VMs placed here, in id order (the order of re-placement).
    vms: VmSet,
    maintenance: Maintenance,
    /// An HA dedicated failover host: only restarts go there.
    failover: bool,
}

struct VmEntry {
    owner: ActorId,
    host: u32,
    size: Resources,
    /// When the power-on reaches the host. A power-off is never sent to
    /// arrive before it, or the host would start a VM already deleted.
    on_at: SimTime,
    priority: RestartPriority,
}

pub struct Placement {
    index: PlacementIndex,
    hosts: Vec<HostView>,
    /// Each host's actor, apart from its view: a deletion's prefetch reads
    /// it to name the host it will send to, before the view has arrived in
    /// the cache (one miss per deletion at 10,000 hosts when it was a field).
    host_actors: Vec<ActorId>,
    vms: VmTable<VmEntry>,
    power_on_delay: Dist,
    ha: Option<HaPlacement>,
    /// Total size of the VMs placement holds (placed or awaiting restart).
    admitted: Resources,
    restarting: BTreeMap<VmId, Restart>,
    /// When each pending restart batch's host was declared failed.
    batches: BTreeMap<u64, SimTime>,
    next_batch: u64,
    /// Planted bug (`debug.placement_ignores_memory`).
    ignore_memory: bool,
    /// The host each migrated VM last left (maintenance only).
    migrated_from: BTreeMap<VmId, HostId>,
    /// The Supervisor's workloads (pods' CRXs, VMs, control-plane VMs):
    /// their placement rule. Their owners are told where they land.
    constrained: BTreeMap<VmId, PlaceRule>,
    /// Deleted VMs whose power-on had not reached their host: (host, size)
    /// by the time their power-off lands there, right behind the power-on.
    /// Until then the host is about to run them, so their room is not
    /// given to another VM.
    releasing: BTreeMap<(SimTime, VmId), (u32, Resources)>,
}

/// One VM as placement believes it: on `host`, running from `on_at`.
#[derive(Clone, Copy, Debug)]
pub struct Assignment {
    pub vm: VmId,
    pub host: HostId,
    pub size: Resources,
    pub on_at: SimTime,
}

/// Placement's belief about one host.
#[derive(Clone, Copy, Debug)]
pub struct HostBelief {
    pub up: bool,
    pub incarnation: u32,
    pub used: Resources,
    pub maintenance: Maintenance,
}

impl Placement {
    /// `hosts`: (actor, capacity) per host, indexed by `HostId`.
    pub fn new(
        index: PlacementIndex,
        hosts: &[(ActorId, Resources)],
        power_on_delay: Dist,
    ) -> Self {
        let host_actors = hosts.iter().map(|&(actor, _)| actor).collect();
        let hosts = hosts
            .iter()
            .map(|&(_, capacity)| HostView {
                capacity,
                used: Resources::ZERO,
                up: true,
                incarnation: 0,
                vms: VmSet::new(),
                maintenance: Maintenance::No,
                failover: false,
            })
            .collect();
        Placement {
            index,
            hosts,
            host_actors,
            vms: VmTable::default(),
            power_on_delay,
            ha: None,
            admitted: Resources::ZERO,
            restarting: BTreeMap::new(),
            batches: BTreeMap::new(),
            next_batch: 0,
            ignore_memory: false,
            migrated_from: BTreeMap::new(),
            constrained: BTreeMap::new(),
            releasing: BTreeMap::new(),
        }
    }

    /// Turns vSphere HA on.
    pub fn with_ha(mut self, ha: HaPlacement) -> Self {
        for h in &ha.failover_hosts {
            if let Some(view) = self.hosts.get_mut(h.0 as usize) {
                view.failover = true;
            }
        }
        self.ha = Some(ha);
        for h in 0..self.hosts.len() {
            self.refresh(HostId(h as u32));
        }
        self
    }

    /// Plants the "ignores memory" bug (tests of the checker only).
    pub fn with_ignored_memory(mut self, ignore: bool) -> Self {
        self.ignore_memory = ignore;
        self
    }

    /// Where placement believes each VM is, in VM id order.
    pub fn assignments(&self) -> impl Iterator<Item = (VmId, HostId)> + '_ {
        self.vms.iter().map(|(vm, e)| (vm, HostId(e.host)))
    }

    /// Every placed VM with its size and power-on arrival, in VM id order.
    pub fn placed(&self) -> impl Iterator<Item = Assignment> + '_ {
        self.vms.iter().map(|(vm, e)| Assignment {
            vm,
            host: HostId(e.host),
            size: e.size,
            on_at: e.on_at,
        })
    }

    /// Placement's belief about each host, by `HostId`.
    pub fn host_beliefs(&self) -> impl Iterator<Item = HostBelief> + '_ {
        self.hosts.iter().map(|v| HostBelief {
            up: v.up,
            incarnation: v.incarnation,
            used: v.used,
            maintenance: v.maintenance,
        })
    }

    /// Where placement believes `vm` is, and when its power-on arrives.
    pub fn where_is(&self, vm: VmId) -> Option<(HostId, SimTime)> {
        self.vms.get(vm).map(|e| (HostId(e.host), e.on_at))
    }

    /// The VMs placement believes are on `host`, in id order.
    pub fn vms_on(&self, host: HostId) -> impl Iterator<Item = VmId> + '_ {
        self.hosts[host.0 as usize].vms.iter().copied()
    }

    /// Placement's belief about one host.
    pub fn host_belief(&self, host: HostId) -> HostBelief {
        let v = &self.hosts[host.0 as usize];
        HostBelief {
            up: v.up,
            incarnation: v.incarnation,
            used: v.used,
            maintenance: v.maintenance,
        }
    }

    /// The host `vm` last migrated away from, if it ever migrated.
    pub fn migration_source(&self, vm: VmId) -> Option<HostId> {
        self.migrated_from.get(&vm).copied()
    }

    /// VMs waiting for an HA restart.
    pub fn pending_restarts(&self) -> usize {
        self.restarting.len()
    }

    /// (admitted, admission capacity) when HA admission control is on.
    pub fn admission(&self) -> Option<(Resources, Resources)> {
        let cap = self.ha.as_ref()?.admission_capacity?;
        Some((self.admitted, cap))
    }

    /// Loads a deletion's memory in stages as it comes closer, so that each
    /// stage reads only what an earlier one brought in: the VM's window slot,
    /// then its entry, then its host's view and index path (and names the
    /// host, which the power-off goes to). In a world of thousands of hosts
    /// these are cache misses otherwise: the departing VM is any of the live
    /// ones, on any host.
    pub fn prefetch(&self, event: &Event, ahead: usize) -> Option<ActorId> {
        let Event::VmDeleteRequested { vm } = *event else {
            return None;
        };
        // Each stage loads what the next one reads: the window slot, the
        // entry, the host's view (and its actor), the view's heap block.
        match ahead {
            0 | 1 => {
                let host = self.vms.get(vm)?.host as usize;
                let view = &self.hosts[host];
                if ahead == 0 {
                    view.vms.prefetch_heap();
                } else {
                    crate::hint::prefetch_all(view);
                    self.index.prefetch(HostId(host as u32));
                }
                return Some(self.host_actors[host]);
            }
            2 => self.vms.prefetch_entry(vm),
            _ => self.vms.prefetch_slot(vm),
        }
        None
    }

    fn request<C: Context>(
        &mut self,
        vm: VmId,
        size: Resources,
        priority: RestartPriority,
        ctx: &mut C,
    ) {
        // A duplicated request (message fault) is ignored.
        if self.vms.get(vm).is_some() || self.restarting.contains_key(&vm) {
            return;
        }
        ctx.note(Note::VmRequested { vm, size });
        let owner = ctx.sender();
        if let Some((admitted, cap)) = self.admission()
            && !(admitted + size).fits_in(&cap)
        {
            let reason = RejectReason::HaAdmission;
            ctx.note(Note::VmRefused { vm, reason });
            ctx.send(owner, SimDuration::ZERO, Event::VmRefused { vm, reason });
            return;
        }
        if self.place(vm, size, owner, priority, ctx) {
            self.admitted += size;
        } else {
            ctx.note(Note::VmRejected { vm });
            ctx.send(owner, SimDuration::ZERO, Event::VmRejected { vm });
        }
    }

    /// Tells the index whether `host` may take new VMs.
    fn refresh(&mut self, host: HostId) {
        let view = &self.hosts[host.0 as usize];
        let eligible = view.up && view.maintenance == Maintenance::No && !view.failover;
        self.index.update(host, view.used, eligible);
    }

    /// Chooses a host and sends the power-on; false when nothing fits.
    fn place<C: Context>(
        &mut self,
        vm: VmId,
        size: Resources,
        owner: ActorId,
        priority: RestartPriority,
        ctx: &mut C,
    ) -> bool {
        let chosen = match self.rule_of(vm) {
            Some(rule) => self.select_constrained(vm, &size, rule),
            None => self.index.select(&self.probe(size)),
        };
        let Some(host) = chosen else {
            return false;
        };
        let entry = VmEntry {
            owner,
            host: host.0,
            size,
            on_at: SimTime::ZERO,
            priority,
        };
        self.place_on(vm, entry, SimDuration::ZERO, ctx);
        true
    }

    /// Sends the power-on to `entry.host`, arriving no earlier than
    /// `min_delay` from now, and records the VM there.
    fn place_on<C: Context>(
        &mut self,
        vm: VmId,
        mut entry: VmEntry,
        min_delay: SimDuration,
        ctx: &mut C,
    ) {
        let host = HostId(entry.host);
        let view = &mut self.hosts[host.0 as usize];
        view.used += entry.size;
        view.vms.insert(vm);
        let incarnation = view.incarnation;
        let actor = self.host_actors[host.0 as usize];
        self.refresh(host);
        let delay = SimDuration(ctx.rng().sample(&self.power_on_delay)).max(min_delay);
        entry.on_at = ctx.now().saturating_add(delay);
        let size = entry.size;
        let owner = entry.owner;
        self.vms.insert(vm, entry);
        ctx.send(
            actor,
            delay,
            Event::VmPowerOn {
                vm,
                size,
                incarnation,
            },
        );
        if self.rule_of(vm).is_some() {
            ctx.send(
                owner,
                SimDuration::ZERO,
                SupMsg::Placed { vm, host }.event(),
            );
        }
    }

    fn delete<C: Context>(&mut self, vm: VmId, ctx: &mut C) {
        self.forget_rule(vm);
        if let Some(r) = self.restarting.remove(&vm) {
            self.admitted -= r.size;
            ctx.note(Note::VmDeleted { vm });
            return;
        }
        let Some(entry) = self.vms.remove(vm) else {
            return;
        };
        if entry.on_at > ctx.now() {
            // The host will run it from `on_at` until the power-off lands.
            self.hosts[entry.host as usize].vms.remove(&vm);
            let held = (entry.host, entry.size);
            self.releasing.insert((entry.on_at, vm), held);
        } else {
            self.release(vm, &entry);
            self.admitted -= entry.size;
        }
        ctx.note(Note::VmDeleted { vm });
        // Same arrival time as the power-on at worst, and queued after it.
        let delay = entry.on_at.since(ctx.now());
        ctx.send(
            self.host_actors[entry.host as usize],
            delay,
            Event::VmPowerOff { vm },
        );
    }

    /// Gives back the room of deleted VMs whose power-off has landed: the
    /// first event placement handles at or after that time sees it, as
    /// any choice it makes would.
    fn release_landed(&mut self, now: SimTime) {
        while let Some(entry) = self.releasing.first_entry()
            && entry.key().0 <= now
        {
            let (host, size) = entry.remove();
            self.hosts[host as usize].used -= size;
            self.admitted -= size;
            self.settle_maintenance(HostId(host));
            self.refresh(HostId(host));
        }
    }

    /// Takes a VM's resources back from its host's view.
    fn release(&mut self, vm: VmId, entry: &VmEntry) {
        let view = &mut self.hosts[entry.host as usize];
        view.used -= entry.size;
        view.vms.remove(&vm);
        self.settle_maintenance(HostId(entry.host));
        self.refresh(HostId(entry.host));
    }

    /// What the index is asked to fit: the VM's size, or, with the
    /// test-only planted bug on, the size without its memory.
    fn probe(&self, size: Resources) -> Resources {
        if self.ignore_memory {
            Resources {
                memory_bytes: 0,
                ..size
            }
        } else {
            size
        }
    }
}

impl Actor for Placement {
    fn handle<C: Context>(&mut self, event: Event, ctx: &mut C) {
        if !self.releasing.is_empty() {
            self.release_landed(ctx.now());
        }
        match event {
            Event::VmRequested { vm, size } => self.request(vm, size, RestartPriority::Medium, ctx),
            Event::VmRequestedWithPriority { vm, size, priority } => {
                self.request(vm, size, RestartPriority::from_u8(priority), ctx)
            }
            Event::VmDeleteRequested { vm } => self.delete(vm, ctx),
            Event::HostDown { host } | Event::HostUnreachable { host } => self.host_down(host, ctx),
            Event::HostUp { host, incarnation } => {
                let view = &mut self.hosts[host.0 as usize];
                view.up = true;
                view.incarnation = incarnation;
                self.refresh(host);
            }
            Event::HaRestart { batch } => self.restart_batch(batch, ctx),
            Event::MaintenanceBegin { host } => self.maintenance_begin(host, ctx),
            Event::MaintenanceEnd { host } => {
                self.hosts[host.0 as usize].maintenance = Maintenance::No;
                self.refresh(host);
            }
            Event::Supervisor(msg) => match *msg {
                SupMsg::Place { vm, size, rule } => self.request_constrained(vm, size, rule, ctx),
                SupMsg::WorkloadsAsked => self.tell_workloads(ctx),
                other => ctx.note(Note::Unexpected {
                    actor: "placement",
                    kind: other.kind(),
                }),
            },
            other => ctx.note(Note::Unexpected {
                actor: "placement",
                kind: other.kind(),
            }),
        }
    }
}

#[cfg(test)]
mod prefetch_tests {
    use super::*;
    use crate::actor::testing::TestCtx;
    use crate::scenario::PlacementPolicy;

    /// The actor a deletion's prefetch names is the one its power-off goes
    /// to, at every stage the prefetch is asked for it changes nothing, and
    /// other events and unknown VMs name no one.
    #[test]
    fn a_deletion_names_the_host_its_power_off_goes_to() {
        let caps = vec![Resources::cores(4, 16); 3];
        let views: Vec<(ActorId, Resources)> = (0..3).map(|i| (ActorId(10 + i), caps[0])).collect();
        let mut p = Placement::new(
            PlacementIndex::new(PlacementPolicy::FirstFit, &caps),
            &views,
            Dist::Fixed(0),
        );
        let mut ctx = TestCtx::new(ActorId(0));
        // Two 4-core VMs fill host 0, so VM 1 lands on host 1.
        for vm in 0..2 {
            let size = Resources::cores(4, 16);
            p.handle(Event::VmRequested { vm: VmId(vm), size }, &mut ctx);
        }
        ctx.take_sent();
        let delete = Event::VmDeleteRequested { vm: VmId(1) };
        let before: Vec<_> = p.assignments().collect();
        for ahead in [3, 2] {
            assert_eq!(p.prefetch(&delete, ahead), None);
        }
        assert_eq!(p.prefetch(&delete, 1), Some(ActorId(11)));
        let named = p.prefetch(&delete, 0);
        assert_eq!(named, Some(ActorId(11)));
        assert_eq!(p.assignments().collect::<Vec<_>>(), before);
        p.handle(delete, &mut ctx);
        let sent = ctx.take_sent();
        assert!(
            matches!(sent.as_slice(), [(to, _, Event::VmPowerOff { vm: VmId(1) })] if Some(*to) == named)
        );
        let unknown = Event::VmDeleteRequested { vm: VmId(7) };
        assert_eq!(p.prefetch(&unknown, 0), None);
        let request = Event::VmRequested {
            vm: VmId(2),
            size: Resources::cores(1, 1),
        };
        assert_eq!(p.prefetch(&request, 0), None);
    }
}

#[cfg(test)]
mod release_tests {
    use super::*;
    use crate::actor::testing::TestCtx;
    use crate::scenario::PlacementPolicy;

    const S: u64 = 1_000_000_000;

    /// One 4-core host and power-ons that take 10 s to land: a VM deleted
    /// before its power-on landed still holds its room until its power-off
    /// lands right behind it, so a request in between is rejected instead
    /// of being placed into room the host is about to fill (fuzz seed
    /// 20918 of `ha-small.yaml` ran a host over capacity that way).
    #[test]
    fn a_vm_deleted_before_its_power_on_landed_keeps_its_room_until_its_power_off() {
        let size = Resources::cores(4, 16);
        let mut p = Placement::new(
            PlacementIndex::new(PlacementPolicy::FirstFit, &[size]),
            &[(ActorId(1), size)],
            Dist::Fixed(10 * S),
        );
        let mut ctx = TestCtx::new(ActorId(0));
        let at = |ctx: &mut TestCtx, secs: u64| ctx.now = SimTime(secs * S);
        p.handle(Event::VmRequested { vm: VmId(0), size }, &mut ctx);
        at(&mut ctx, 2);
        p.handle(Event::VmDeleteRequested { vm: VmId(0) }, &mut ctx);
        let sent = ctx.take_sent();
        // The power-off lands with the power-on, at 10 s.
        assert!(
            matches!(sent.last(), Some((ActorId(1), d, Event::VmPowerOff { vm: VmId(0) })) if d.0 == 8 * S)
        );
        at(&mut ctx, 5);
        p.handle(Event::VmRequested { vm: VmId(1), size }, &mut ctx);
        assert!(matches!(
            ctx.take_sent().as_slice(),
            [(_, _, Event::VmRejected { vm: VmId(1) })]
        ));
        assert_eq!(p.host_belief(HostId(0)).used, size);
        at(&mut ctx, 10);
        p.handle(Event::VmRequested { vm: VmId(2), size }, &mut ctx);
        assert!(matches!(
            ctx.take_sent().as_slice(),
            [(ActorId(1), _, Event::VmPowerOn { vm: VmId(2), .. })]
        ));
    }

    /// A host that fails meanwhile starts again from nothing: the held room
    /// is not given back a second time.
    #[test]
    fn a_failed_hosts_held_room_is_not_given_back_twice() {
        let size = Resources::cores(4, 16);
        let caps = [Resources::cores(8, 32)];
        let mut p = Placement::new(
            PlacementIndex::new(PlacementPolicy::FirstFit, &caps),
            &[(ActorId(1), caps[0])],
            Dist::Fixed(10 * S),
        );
        let mut ctx = TestCtx::new(ActorId(0));
        p.handle(Event::VmRequested { vm: VmId(0), size }, &mut ctx);
        ctx.now = SimTime(2 * S);
        p.handle(Event::VmDeleteRequested { vm: VmId(0) }, &mut ctx);
        p.handle(Event::HostDown { host: HostId(0) }, &mut ctx);
        let up = Event::HostUp {
            host: HostId(0),
            incarnation: 1,
        };
        p.handle(up, &mut ctx);
        ctx.now = SimTime(3 * S);
        p.handle(Event::VmRequested { vm: VmId(1), size }, &mut ctx);
        ctx.now = SimTime(11 * S);
        p.handle(Event::VmRequested { vm: VmId(2), size }, &mut ctx);
        assert_eq!(p.host_belief(HostId(0)).used, size + size);
    }
}
