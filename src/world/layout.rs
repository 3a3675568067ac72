//! Placement's [`Layout`] from a scenario: cluster ranges, resource pools,
//! DRS rules, and one profile (cluster, pool, rules) per workload owner.
//! Explicit VMs are split into one source per profile, since placement
//! knows a VM's profile by the actor that asks for it.

use crate::actors::placement::{Layout, PoolSpec, Profile, RuleSpec};
use crate::model::ActorId;
use crate::scenario::{ExplicitVm, Scenario};
use std::collections::BTreeMap;

/// The profile of a VM or generator named `name` in `cluster`/`pool`.
pub fn profile_of(s: &Scenario, name: &str, cluster: usize, pool: Option<usize>) -> Profile {
    let rules = (s.datacenter.rules.iter().enumerate())
        .filter(|(_, r)| r.vms.iter().any(|v| v == name))
        .map(|(i, _)| i as u16)
        .collect();
    Profile {
        cluster: cluster as u16,
        pool: pool.map(|p| p as u16),
        rules,
    }
}

/// The scenario's explicit VMs grouped by profile, in the order each
/// profile first appears, with the name of the source that speaks for
/// them: `workload/vms` when there is one group, else
/// `workload/vms@CLUSTER[/POOL][+RULE...]`.
pub fn explicit_groups(s: &Scenario) -> Vec<(String, Profile, Vec<ExplicitVm>)> {
    let mut groups: Vec<(Profile, Vec<ExplicitVm>)> = Vec::new();
    let mut at: BTreeMap<(u16, Option<u16>, Vec<u16>), usize> = BTreeMap::new();
    for vm in &s.workloads.vms {
        let profile = profile_of(s, &vm.name, vm.cluster, vm.pool);
        let key = (profile.cluster, profile.pool, profile.rules.clone());
        let i = *at.entry(key).or_insert_with(|| {
            groups.push((profile, Vec::new()));
            groups.len() - 1
        });
        groups[i].1.push(vm.clone());
    }
    let single = groups.len() == 1;
    groups
        .into_iter()
        .map(|(profile, vms)| {
            let name = if single {
                "workload/vms".to_string()
            } else {
                group_name(s, &profile)
            };
            (name, profile, vms)
        })
        .collect()
}

fn group_name(s: &Scenario, p: &Profile) -> String {
    let dc = &s.datacenter;
    let mut name = format!("workload/vms@{}", dc.cluster_name(p.cluster as usize));
    if let Some(pool) = p.pool {
        name.push('/');
        name.push_str(&dc.pools[pool as usize].name);
    }
    for r in &p.rules {
        name.push('+');
        name.push_str(&dc.rules[*r as usize].name);
    }
    name
}

/// Profiles interned by value: index 0 is the default (the first
/// cluster, no pool, no rule), which owners not listed get.
#[derive(Default)]
pub struct Profiles {
    list: Vec<Profile>,
    owners: Vec<(ActorId, u16)>,
    /// Owner actor name -> profile, for what-if replays that add sources
    /// by the recorded names.
    by_name: BTreeMap<String, u16>,
}

impl Profiles {
    pub fn new() -> Profiles {
        Profiles {
            list: vec![Profile::default()],
            ..Profiles::default()
        }
    }

    fn intern(&mut self, p: Profile) -> u16 {
        match self.list.iter().position(|q| *q == p) {
            Some(i) => i as u16,
            None => {
                self.list.push(p);
                (self.list.len() - 1) as u16
            }
        }
    }

    /// Gives `owner` (named `name`) `profile`.
    pub fn assign(&mut self, owner: ActorId, name: &str, profile: Profile) {
        let i = self.intern(profile);
        self.owners.push((owner, i));
        self.by_name.insert(name.to_string(), i);
    }

    /// Remembers the profile of an owner this world will not have (a bare
    /// world's workloads), for a source added later under its name.
    pub fn remember(&mut self, name: &str, profile: Profile) {
        let i = self.intern(profile);
        self.by_name.insert(name.to_string(), i);
    }

    /// Gives `owner` the profile remembered for `name`, if one is.
    /// Returns it.
    pub fn claim(&mut self, owner: ActorId, name: &str) -> Option<u16> {
        let i = self.by_name.get(name).copied()?;
        self.owners.push((owner, i));
        Some(i)
    }

    pub fn layout(&self, s: &Scenario) -> Layout {
        let dc = &s.datacenter;
        Layout {
            clusters: dc.cluster_ranges(),
            pools: (dc.pools.iter())
                .map(|p| PoolSpec {
                    cluster: p.cluster as u16,
                    reservation: p.reservation,
                    limit: p.limit,
                    expandable: p.expandable,
                })
                .collect(),
            rules: (dc.rules.iter())
                .map(|r| RuleSpec {
                    kind: r.kind,
                    hosts: r.hosts.clone(),
                })
                .collect(),
            profiles: self.list.clone(),
            owners: self.owners.clone(),
            supervisor_cluster: s.supervisor.as_ref().map_or(0, |c| c.cluster as u16),
        }
    }
}
