//! Where a plain VM may go. In vSphere, DRS and HA act within one cluster:
//! a VM is deployed into a cluster, perhaps into a resource pool of it, and
//! may be bound by the cluster's DRS rules. Placement learns all three from
//! the VM's owner: every workload source speaks as its own actor, and the
//! world gives each owner a [`Profile`].
//!
//! A cluster keeps its own host index (its hosts are a contiguous range of
//! host ids) and its own HA admission. A resource pool admits a VM against
//! its reservation and limit; a VM under a DRS rule is placed by a scan of
//! its cluster's hosts, since rules bind few VMs.

use crate::model::{HostId, Resources, VmId};
use crate::placement::{PlacementIndex, PlacementPolicy};
use crate::scenario::RuleKind;
use std::collections::BTreeSet;
use std::ops::Range;

/// What the world tells placement about clusters, pools, rules and owners.
#[derive(Clone, Debug, Default)]
pub struct Layout {
    /// Each cluster's hosts (contiguous, in cluster order).
    pub clusters: Vec<Range<u32>>,
    pub pools: Vec<PoolSpec>,
    pub rules: Vec<RuleSpec>,
    /// Profiles by index; owners not listed in `owners` use profile 0.
    pub profiles: Vec<Profile>,
    /// (owner actor, profile index).
    pub owners: Vec<(crate::model::ActorId, u16)>,
    /// The cluster the Supervisor's workloads go to.
    pub supervisor_cluster: u16,
}

/// A VM's cluster, resource pool and DRS rules.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Profile {
    pub cluster: u16,
    pub pool: Option<u16>,
    pub rules: Vec<u16>,
}

#[derive(Clone, Debug)]
pub struct PoolSpec {
    pub cluster: u16,
    pub reservation: Resources,
    pub limit: Resources,
    pub expandable: bool,
}

#[derive(Clone, Debug)]
pub struct RuleSpec {
    pub kind: RuleKind,
    /// VM-Host rules: the host group.
    pub hosts: Vec<HostId>,
}

/// One cluster as placement keeps it.
pub(super) struct ClusterPart {
    pub(super) hosts: Range<u32>,
    /// Over the cluster's hosts, by their position in `hosts`.
    pub(super) index: PlacementIndex,
    /// Total size of the VMs placement holds here (placed or awaiting an HA
    /// restart).
    pub(super) admitted: Resources,
    /// HA admission control: `admitted` may not pass this.
    pub(super) admission_capacity: Option<Resources>,
    /// Its hosts' capacity, what its resource pools' reservations divide.
    pub(super) capacity: Resources,
    /// Its resource pools (indexes into `Scope::pools`).
    pub(super) pools: Vec<u16>,
    pub(super) counts: ClusterCounts,
}

/// What happened to the plain VMs deployed into one cluster.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClusterCounts {
    pub requested: u64,
    /// Rejected or refused at their request.
    pub rejected: u64,
    /// Lost when their host failed.
    pub lost: u64,
}

impl ClusterPart {
    pub(super) fn new(
        policy: PlacementPolicy,
        hosts: Range<u32>,
        capacities: &[Resources],
    ) -> ClusterPart {
        let own = &capacities[hosts.start as usize..hosts.end as usize];
        ClusterPart {
            index: PlacementIndex::new(policy, own),
            capacity: own.iter().fold(Resources::ZERO, |a, c| a + *c),
            hosts,
            admitted: Resources::ZERO,
            admission_capacity: None,
            pools: Vec::new(),
            counts: ClusterCounts::default(),
        }
    }

    pub(super) fn select(&self, request: &Resources) -> Option<HostId> {
        (self.index.select(request)).map(|HostId(local)| HostId(self.hosts.start + local))
    }

    pub(super) fn update(&mut self, host: HostId, used: Resources, eligible: bool) {
        self.index
            .update(HostId(host.0 - self.hosts.start), used, eligible);
    }

    pub(super) fn prefetch(&self, host: HostId) {
        self.index.prefetch(HostId(host.0 - self.hosts.start));
    }

    pub(super) fn contains(&self, host: HostId) -> bool {
        self.hosts.contains(&host.0)
    }
}

pub(super) struct PoolView {
    pub(super) spec: PoolSpec,
    /// Total size of its admitted VMs.
    pub(super) used: Resources,
}

pub(super) struct RuleView {
    pub(super) kind: RuleKind,
    pub(super) hosts: BTreeSet<HostId>,
    /// Its VMs that placement holds.
    pub(super) members: BTreeSet<VmId>,
}

/// Profiles, pools and rules: everything of the layout but the clusters.
pub(super) struct Scope {
    pub(super) profiles: Vec<Profile>,
    /// Profile index by owner actor id (beyond its end: profile 0).
    pub(super) by_owner: Vec<u16>,
    pub(super) pools: Vec<PoolView>,
    pub(super) rules: Vec<RuleView>,
    pub(super) supervisor_cluster: u16,
    /// True when some profile names a pool or a rule: otherwise a request
    /// costs no lookup beyond its cluster's.
    pub(super) bound: bool,
}

impl Scope {
    pub(super) fn new(layout: &Layout) -> Scope {
        let mut profiles = layout.profiles.clone();
        if profiles.is_empty() {
            profiles.push(Profile::default());
        }
        let mut scope = Scope {
            bound: profiles
                .iter()
                .any(|p| p.pool.is_some() || !p.rules.is_empty()),
            profiles,
            by_owner: Vec::new(),
            pools: (layout.pools.iter())
                .map(|spec| PoolView {
                    spec: spec.clone(),
                    used: Resources::ZERO,
                })
                .collect(),
            rules: (layout.rules.iter())
                .map(|r| RuleView {
                    kind: r.kind,
                    hosts: r.hosts.iter().copied().collect(),
                    members: BTreeSet::new(),
                })
                .collect(),
            supervisor_cluster: layout.supervisor_cluster,
        };
        for &(owner, profile) in &layout.owners {
            scope.assign(owner, profile);
        }
        scope
    }

    /// Gives `owner` profile `profile` (an index into the layout's).
    pub(super) fn assign(&mut self, owner: crate::model::ActorId, profile: u16) {
        let i = owner.0 as usize;
        if self.by_owner.len() <= i {
            self.by_owner.resize(i + 1, 0);
        }
        self.by_owner[i] = profile;
    }

    pub(super) fn profile(&self, owner: crate::model::ActorId) -> &Profile {
        let i = self.by_owner.get(owner.0 as usize).copied().unwrap_or(0);
        &self.profiles[i as usize]
    }
}

/// Why a VM under rules has no host: the hard rule that left no host with
/// room, if one did.
pub(super) enum RuledChoice {
    Host(HostId),
    /// Some host has room, but this rule forbids all of them.
    Refused(u16),
    /// No host of the cluster has room.
    Full,
}

/// Admission in a cluster with resource pools, as vSphere checks
/// reservations: a pool's VMs may not pass its limit; what they use beyond
/// its reservation is borrowed from the cluster's unreserved capacity,
/// which only an expandable pool may do; and VMs outside any pool use
/// only the capacity no pool reserves. Cpu and memory are checked.
///
/// `pools`: (reservation, used) of the cluster's pools, the VM's own pool
/// already charged with the VM. `outside`: what VMs outside any pool use,
/// with the VM when it is outside.
pub(super) fn unreserved_fits(
    capacity: &Resources,
    pools: impl Iterator<Item = (Resources, Resources)>,
    outside: Resources,
) -> bool {
    let mut committed = outside;
    for (reservation, used) in pools {
        committed.cpu_millis += reservation.cpu_millis.max(used.cpu_millis);
        committed.memory_bytes += reservation.memory_bytes.max(used.memory_bytes);
    }
    committed.cpu_millis <= capacity.cpu_millis && committed.memory_bytes <= capacity.memory_bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_set_capacity_aside_and_use_beyond_them_is_borrowed() {
        let cap = Resources::cores(100, 1000);
        let pool = |reserved: u64, used: u64| {
            (
                Resources::cores(reserved, reserved * 10),
                Resources::cores(used, used * 10),
            )
        };
        // 60 reserved, 10 used in the pool, 40 outside: exactly full.
        assert!(unreserved_fits(
            &cap,
            [pool(60, 10)].into_iter(),
            Resources::cores(40, 400)
        ));
        assert!(!unreserved_fits(
            &cap,
            [pool(60, 10)].into_iter(),
            Resources::cores(41, 410)
        ));
        // A pool past its reservation counts what it uses.
        assert!(!unreserved_fits(
            &cap,
            [pool(60, 70)].into_iter(),
            Resources::cores(31, 310)
        ));
    }
}
