//! Supervisor workloads (pods' CRXs, VMs, control-plane VMs): placed by
//! a DRS-like score among the hosts their rule allows, with anti-affinity
//! groups, told where they land, and handed back to their owner when their
//! host fails.

use super::{Maintenance, Placement, VmEntry};
use crate::actor::Context;
use crate::api::msg::{PlaceRule, SupMsg};
use crate::model::{HostId, Resources, SimDuration, SimTime, VmId, VmSet};
use crate::scenario::RestartPriority;
use std::collections::BTreeSet;

impl Placement {
    /// A Supervisor workload: placed by the DRS-like score among the hosts
    /// its rule allows, whatever the cluster's policy for plain VMs (the
    /// Supervisor asks DRS; a pod's rule names the one host the scheduler
    /// chose, so DRS only confirms it has room).
    pub(super) fn request_constrained<C: Context>(
        &mut self,
        vm: VmId,
        size: Resources,
        rule: PlaceRule,
        ctx: &mut C,
    ) {
        if self.vms.get(vm).is_some() || self.restarting.contains_key(&vm) {
            return;
        }
        let owner = ctx.sender();
        let refuse = |reason: String, ctx: &mut C| {
            let msg = SupMsg::PlaceFailed { vm, reason };
            ctx.send(owner, SimDuration::ZERO, msg.event());
        };
        if let Err(reason) = self.admits(owner, &size) {
            let why = match reason {
                crate::event::RejectReason::HaAdmission => {
                    "powering it on would break the HA admission-control reservation"
                }
                // The Supervisor's workloads are in no pool of the layout:
                // only other pools' reservations can refuse them.
                _ => "the cluster's resource pool reservations leave no room for it",
            };
            return refuse(why.into(), ctx);
        }
        let Some(host) = self.select_constrained(vm, &size, &rule) else {
            return refuse(self.why_unplaceable(&size, &rule), ctx);
        };
        self.constrained.insert(vm, rule);
        self.admit(vm, owner, size);
        let entry = VmEntry {
            owner,
            host: host.0,
            size,
            on_at: SimTime::ZERO,
            priority: RestartPriority::Medium,
        };
        self.place_on(vm, entry, SimDuration::ZERO, ctx);
    }

    /// Answers a restarted Supervisor part: the workloads it owns that
    /// placement still holds (placed or awaiting an HA restart).
    pub(super) fn tell_workloads<C: Context>(&self, ctx: &mut C) {
        let asker = ctx.sender();
        let held = (self.constrained.keys().copied())
            .filter_map(|vm| match (self.vms.get(vm), self.restarting.get(&vm)) {
                (Some(e), _) if e.owner == asker => Some((vm, Some(HostId(e.host)))),
                (None, Some(r)) if r.owner == asker => Some((vm, None)),
                _ => None,
            })
            .collect();
        ctx.send(asker, SimDuration::ZERO, SupMsg::Workloads { held }.event());
    }

    /// The rule of a Supervisor workload. Their ids are all from
    /// `SPARSE_BASE` up, so a plain VM costs one comparison here (this is
    /// on the churn benchmark's hot path).
    #[inline]
    pub(super) fn rule_of(&self, vm: VmId) -> Option<&PlaceRule> {
        if vm.0 < crate::model::SPARSE_BASE {
            return None;
        }
        self.constrained.get(&vm)
    }

    #[inline]
    pub(super) fn forget_rule(&mut self, vm: VmId) {
        if vm.0 >= crate::model::SPARSE_BASE {
            self.constrained.remove(&vm);
        }
    }

    /// The host with the lowest resulting max(cpu%, mem%) among those the
    /// rule allows, that are eligible, have room, and run no other member
    /// of the VM's anti-affinity group; ties by host id.
    pub(super) fn select_constrained(
        &self,
        vm: VmId,
        size: &Resources,
        rule: &PlaceRule,
    ) -> Option<HostId> {
        let taken = self.anti_affinity_hosts(vm, rule);
        let size = self.probe(*size);
        let hosts = self.clusters[self.scope.supervisor_cluster as usize]
            .hosts
            .clone();
        let best = |taken: &BTreeSet<HostId>| {
            let allowed = |h: &HostId| rule.only.is_empty() || rule.only.contains(h);
            hosts
                .clone()
                .map(HostId)
                .filter(allowed)
                .filter(|h| !taken.contains(h))
                .filter(|h| {
                    let v = &self.hosts[h.0 as usize];
                    v.up && v.maintenance == Maintenance::No
                        && !v.failover
                        && (v.used + size).fits_in(&v.capacity)
                })
                .min_by_key(|h| {
                    let v = &self.hosts[h.0 as usize];
                    (
                        crate::placement::balanced_score(&v.capacity, &(v.used + size)),
                        *h,
                    )
                })
        };
        match best(&taken) {
            // A soft group shares a host rather than not running.
            None if rule.soft_anti_affinity && !taken.is_empty() => best(&BTreeSet::new()),
            chosen => chosen,
        }
    }

    /// Hosts running another member of `vm`'s anti-affinity group.
    pub(super) fn anti_affinity_hosts(&self, vm: VmId, rule: &PlaceRule) -> BTreeSet<HostId> {
        let Some(group) = rule.anti_affinity_group else {
            return BTreeSet::new();
        };
        self.constrained
            .iter()
            .filter(|(other, r)| **other != vm && r.anti_affinity_group == Some(group))
            .filter_map(|(other, _)| self.vms.get(*other).map(|e| HostId(e.host)))
            .collect()
    }

    pub(super) fn why_unplaceable(&self, size: &Resources, rule: &PlaceRule) -> String {
        let mut why = format!("no host has room for {size}");
        if !rule.only.is_empty() {
            why = format!(
                "none of the {} allowed host(s) has room for {size}",
                rule.only.len()
            );
        }
        if rule.anti_affinity_group.is_some() && !rule.soft_anti_affinity {
            why.push_str(" on a host without another member of its anti-affinity group");
        }
        why
    }

    /// Tells the owners of the Supervisor workloads among `displaced` that
    /// their host failed; those not restarted by HA (pods: their owner
    /// recreates them) are forgotten. Returns the VMs still to restart.
    pub(super) fn displace_constrained<C: Context>(
        &mut self,
        displaced: VmSet,
        ctx: &mut C,
    ) -> VmSet {
        if self.constrained.is_empty() {
            return displaced;
        }
        let mut restart = VmSet::new();
        for vm in displaced {
            let Some(rule) = self.constrained.get(&vm) else {
                restart.insert(vm);
                continue;
            };
            let owner = self.vms.get(vm).expect("displaced vm is placed").owner;
            ctx.send(owner, SimDuration::ZERO, SupMsg::Displaced { vm }.event());
            if rule.restart {
                restart.insert(vm);
            } else {
                let entry = self.vms.remove(vm).expect("displaced vm is placed");
                self.unadmit(vm, entry.owner, entry.size);
                self.constrained.remove(&vm);
            }
        }
        restart
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::Actor;
    use crate::actor::testing::TestCtx;
    use crate::event::Event;
    use crate::model::{ActorId, Dist};
    use crate::scenario::PlacementPolicy;

    fn placement(hosts: usize) -> Placement {
        let caps = vec![Resources::cores(16, 64); hosts];
        let views: Vec<(ActorId, Resources)> = caps
            .iter()
            .enumerate()
            .map(|(i, c)| (ActorId(1 + i as u32), *c))
            .collect();
        Placement::new(PlacementPolicy::FirstFit, &views, Dist::Fixed(0))
    }

    /// Supervisor workloads have ids from SPARSE_BASE up.
    fn sup(n: u64) -> VmId {
        VmId(crate::model::SPARSE_BASE + n)
    }

    fn place(
        p: &mut Placement,
        ctx: &mut TestCtx,
        vm: u64,
        size: Resources,
        rule: PlaceRule,
    ) -> SupMsg {
        let msg = SupMsg::Place {
            vm: sup(vm),
            size,
            rule,
        };
        p.handle(msg.event(), ctx);
        ctx.take_sent()
            .into_iter()
            .rev()
            .find_map(|(to, _, e)| match e {
                Event::Supervisor(m) if to == ActorId(99) => Some(*m),
                _ => None,
            })
            .expect("the owner hears back")
    }

    #[test]
    fn anti_affinity_members_land_on_distinct_hosts_and_a_fourth_is_refused() {
        let mut p = placement(3);
        let mut ctx = TestCtx::new(ActorId(0));
        ctx.sender = ActorId(99);
        let rule = PlaceRule {
            only: Vec::new(),
            anti_affinity_group: Some(0),
            soft_anti_affinity: false,
            restart: true,
        };
        let mut hosts = BTreeSet::new();
        for vm in 0..3 {
            match place(&mut p, &mut ctx, vm, Resources::cores(2, 8), rule.clone()) {
                SupMsg::Placed { host, .. } => assert!(hosts.insert(host)),
                other => panic!("not placed: {other:?}"),
            }
        }
        match place(&mut p, &mut ctx, 3, Resources::cores(2, 8), rule) {
            SupMsg::PlaceFailed { reason, .. } => {
                assert!(reason.contains("anti-affinity"), "{reason}")
            }
            other => panic!("placed a fourth member: {other:?}"),
        }
    }

    /// A resource pool's reservation holds its room back from the
    /// Supervisor's workloads too, and the refusal says so.
    #[test]
    fn pool_reservations_refuse_a_supervisor_workload_by_their_name() {
        let layout = super::super::Layout {
            clusters: std::iter::once(0..2).collect(),
            pools: vec![super::super::PoolSpec {
                cluster: 0,
                reservation: Resources::cores(30, 8),
                limit: Resources::UNLIMITED,
                expandable: true,
            }],
            ..Default::default()
        };
        let mut p = placement(2).with_layout(&layout);
        let mut ctx = TestCtx::new(ActorId(0));
        ctx.sender = ActorId(99);
        let small = place(
            &mut p,
            &mut ctx,
            0,
            Resources::cores(2, 8),
            PlaceRule::default(),
        );
        assert!(matches!(small, SupMsg::Placed { .. }), "{small:?}");
        match place(
            &mut p,
            &mut ctx,
            1,
            Resources::cores(1, 1),
            PlaceRule::default(),
        ) {
            SupMsg::PlaceFailed { reason, .. } => {
                assert!(reason.contains("resource pool reservations"), "{reason}")
            }
            other => panic!("placed past the reservation: {other:?}"),
        }
    }

    #[test]
    fn a_soft_group_spreads_while_it_can_then_shares_a_host() {
        let mut p = placement(2);
        let mut ctx = TestCtx::new(ActorId(0));
        ctx.sender = ActorId(99);
        let rule = PlaceRule {
            anti_affinity_group: Some(1000),
            soft_anti_affinity: true,
            restart: true,
            ..PlaceRule::default()
        };
        // Small members: DRS alone would stack the first two on host 0
        // only on a tie; the group sends the second to host 1 regardless
        // of score, and the third shares.
        let mut hosts = Vec::new();
        for vm in 0..3 {
            match place(&mut p, &mut ctx, vm, Resources::cores(1, 1), rule.clone()) {
                SupMsg::Placed { host, .. } => hosts.push(host),
                other => panic!("not placed: {other:?}"),
            }
        }
        assert_eq!(hosts, [HostId(0), HostId(1), HostId(0)]);
    }

    #[test]
    fn only_rule_pins_the_host_and_drs_scores_the_rest() {
        let mut p = placement(3);
        let mut ctx = TestCtx::new(ActorId(0));
        ctx.sender = ActorId(99);
        let pinned = PlaceRule {
            only: vec![HostId(2)],
            ..PlaceRule::default()
        };
        assert_eq!(
            place(&mut p, &mut ctx, 0, Resources::cores(8, 8), pinned.clone()),
            SupMsg::Placed {
                vm: sup(0),
                host: HostId(2)
            }
        );
        // The least loaded host after placement wins: host 0 (ties by id).
        assert_eq!(
            place(
                &mut p,
                &mut ctx,
                1,
                Resources::cores(8, 8),
                PlaceRule::default()
            ),
            SupMsg::Placed {
                vm: sup(1),
                host: HostId(0)
            }
        );
        // Pinned to a host without room.
        match place(&mut p, &mut ctx, 2, Resources::cores(12, 8), pinned) {
            SupMsg::PlaceFailed { reason, .. } => {
                assert!(reason.contains("1 allowed host"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_failed_hosts_pods_are_forgotten_and_its_vms_re_placed_with_their_rule() {
        let mut p = placement(3);
        let mut ctx = TestCtx::new(ActorId(0));
        ctx.sender = ActorId(99);
        let pod = PlaceRule {
            only: vec![HostId(1)],
            ..PlaceRule::default()
        };
        let vm = PlaceRule {
            only: vec![HostId(1), HostId(2)],
            restart: true,
            ..PlaceRule::default()
        };
        place(&mut p, &mut ctx, 0, Resources::cores(2, 2), pod);
        // DRS prefers the emptier host 2 for the VM; force host 1 by filling 2.
        place(
            &mut p,
            &mut ctx,
            5,
            Resources::cores(15, 2),
            PlaceRule {
                only: vec![HostId(2)],
                ..PlaceRule::default()
            },
        );
        assert_eq!(
            place(&mut p, &mut ctx, 1, Resources::cores(2, 2), vm),
            SupMsg::Placed {
                vm: sup(1),
                host: HostId(1)
            }
        );
        p.handle(Event::HostDown { host: HostId(1) }, &mut ctx);
        let to_owner: Vec<SupMsg> = ctx
            .take_sent()
            .into_iter()
            .filter_map(|(to, _, e)| match e {
                Event::Supervisor(m) if to == ActorId(99) => Some(*m),
                _ => None,
            })
            .collect();
        assert!(to_owner.contains(&SupMsg::Displaced { vm: sup(0) }));
        assert!(to_owner.contains(&SupMsg::Displaced { vm: sup(1) }));
        // Host 2 is full, host 1 down, and host 0 (with room) is outside the
        // VM's rule: the VM is lost, not re-placed there; the pod just gone.
        assert!(p.where_is(sup(0)).is_none());
        assert!(p.where_is(sup(1)).is_none());
    }
}
