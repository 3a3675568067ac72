//! What Cluster API does next with a cluster's machines, from the desired
//! pools and the machines as they are: scale each pool to its replicas
//! (scale-down drains the newest first) and roll machines whose template
//! is outdated, control plane first, then each node pool in order, one
//! machine at a time with maxSurge 1 and maxUnavailable 0: a new machine
//! is created, and only when every up-to-date machine of the pool is Ready
//! is the oldest outdated one drained (then deleted). Pure.

use super::expand::{Expansion, PoolSpec, Template};

/// Where a machine is in its life, as far as the rollout cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Active,
    /// Its node is being drained; deleted when drained.
    Draining,
    /// Its VM is being deleted.
    Deleting,
}

#[derive(Clone, Debug)]
pub struct MachineView<'a> {
    pub name: &'a str,
    pub pool: &'a str,
    /// Creation order within the pool.
    pub index: u32,
    pub template: &'a Template,
    pub ready: bool,
    pub stage: Stage,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Create { pool: String },
    Drain { machine: String },
}

/// The pool being rolled: the first (control plane first) with an
/// outdated machine that is not being deleted.
pub fn rolling_pool<'a>(exp: &'a Expansion, machines: &[MachineView]) -> Option<&'a PoolSpec> {
    exp.pools().find(|p| {
        machines
            .iter()
            .any(|m| m.pool == p.name && m.stage != Stage::Deleting && *m.template != p.template)
    })
}

pub fn plan(exp: &Expansion, machines: &[MachineView]) -> Vec<Action> {
    let rolling = rolling_pool(exp, machines).map(|p| p.name.as_str());
    let mut actions = Vec::new();
    for pool in exp.pools() {
        let mine: Vec<&MachineView> = machines
            .iter()
            .filter(|m| m.pool == pool.name && m.stage != Stage::Deleting)
            .collect();
        let r = pool.replicas as usize;
        let create = || Action::Create {
            pool: pool.name.clone(),
        };
        if rolling == Some(pool.name.as_str()) {
            let settled = mine.iter().all(|m| m.stage == Stage::Active)
                && mine
                    .iter()
                    .filter(|m| *m.template == pool.template)
                    .all(|m| m.ready);
            if mine.len() <= r {
                actions.push(create());
            } else if settled {
                let oldest = mine
                    .iter()
                    .filter(|m| *m.template != pool.template)
                    .min_by_key(|m| m.index)
                    .expect("a rolling pool has an outdated machine");
                actions.push(Action::Drain {
                    machine: oldest.name.to_string(),
                });
            }
            continue;
        }
        let mut active: Vec<&&MachineView> =
            mine.iter().filter(|m| m.stage == Stage::Active).collect();
        if active.len() < r {
            actions.extend((active.len()..r).map(|_| create()));
        } else if active.len() > r {
            // The newest go first (the longest-lived nodes carry the most).
            active.sort_by_key(|m| std::cmp::Reverse(m.index));
            actions.extend(active[..active.len() - r].iter().map(|m| Action::Drain {
                machine: m.name.to_string(),
            }));
        }
    }
    // Machines of pools no longer in the spec go too.
    for m in machines {
        if m.stage == Stage::Active && exp.pool(m.pool).is_none() {
            actions.push(Action::Drain {
                machine: m.name.to_string(),
            });
        }
    }
    actions
}

#[cfg(test)]
mod tests {
    use super::super::expand::{CONTROL_PLANE, expand};
    use super::*;
    use crate::api::objects::*;
    use std::collections::BTreeMap;

    fn tkc(version: &str, cp: u32, workers: u32) -> Expansion {
        let pool = |name: &str, replicas| NodePool {
            name: name.into(),
            replicas,
            vm_class: "small".into(),
            storage_class: "shared".into(),
            autoscale: None,
        };
        let t = TanzuKubernetesCluster {
            version: version.into(),
            control_plane: pool(CONTROL_PLANE, cp),
            node_pools: vec![pool("workers", workers)],
            phase: ClusterPhase::Creating,
            endpoint: None,
            nodes_ready: 0,
        };
        expand("c", &t, &BTreeMap::new())
    }

    /// A tiny machine set: (pool, index, version, ready, stage).
    struct Set {
        m: Vec<(String, String, u32, Template, bool, Stage)>,
    }

    impl Set {
        fn new() -> Self {
            Set { m: Vec::new() }
        }
        fn add(&mut self, exp: &Expansion, pool: &str, version: &str, ready: bool) {
            let index = self.m.iter().filter(|m| m.1 == pool).count() as u32;
            let mut template = exp.pool(pool).unwrap().template.clone();
            template.version = version.into();
            let name = format!("{pool}-{index}");
            self.m
                .push((name, pool.into(), index, template, ready, Stage::Active));
        }
        fn views(&self) -> Vec<MachineView<'_>> {
            self.m
                .iter()
                .map(|(name, pool, index, template, ready, stage)| MachineView {
                    name,
                    pool,
                    index: *index,
                    template,
                    ready: *ready,
                    stage: *stage,
                })
                .collect()
        }
        /// Applies the plan like the controller: creates are not Ready,
        /// drains complete at once (delete), then new machines become
        /// Ready. Returns the drained names in order.
        fn roll(&mut self, exp: &Expansion) -> Vec<String> {
            let mut drained = Vec::new();
            for _ in 0..100 {
                let actions = plan(exp, &self.views());
                if actions.is_empty() {
                    if self.m.iter().all(|m| m.4) {
                        return drained;
                    }
                    for m in &mut self.m {
                        m.4 = true;
                    }
                    continue;
                }
                for a in actions {
                    match a {
                        Action::Create { pool } => {
                            let v = exp.pool(&pool).unwrap().template.version.clone();
                            self.add(exp, &pool, &v, false)
                        }
                        Action::Drain { machine } => {
                            drained.push(machine.clone());
                            self.m.retain(|m| m.0 != machine);
                        }
                    }
                }
            }
            panic!("no fixed point")
        }
    }

    #[test]
    fn creation_makes_every_replica_at_once() {
        let exp = tkc("v1", 3, 2);
        let actions = plan(&exp, &[]);
        let creates = |pool: &str| {
            actions
                .iter()
                .filter(|a| **a == Action::Create { pool: pool.into() })
                .count()
        };
        assert_eq!((creates(CONTROL_PLANE), creates("workers")), (3, 2));
    }

    #[test]
    fn an_upgrade_replaces_control_plane_then_workers_one_at_a_time() {
        let old = tkc("v1", 3, 2);
        let mut set = Set::new();
        for _ in 0..3 {
            set.add(&old, CONTROL_PLANE, "v1", true);
        }
        for _ in 0..2 {
            set.add(&old, "workers", "v1", true);
        }
        let new = tkc("v2", 3, 2);
        // First step: one surge machine in the control plane, nothing else.
        assert_eq!(
            plan(&new, &set.views()),
            [Action::Create {
                pool: CONTROL_PLANE.into()
            }]
        );
        let drained = set.roll(&new);
        assert_eq!(
            drained,
            [
                "control-plane-0",
                "control-plane-1",
                "control-plane-2",
                "workers-0",
                "workers-1"
            ]
        );
        assert!(set.m.iter().all(|m| m.3.version == "v2"));
        assert_eq!(set.m.len(), 5);
    }

    #[test]
    fn no_old_machine_goes_while_a_new_one_is_not_ready() {
        let new = tkc("v2", 1, 0);
        let mut set = Set::new();
        set.add(&new, CONTROL_PLANE, "v1", true);
        set.add(&new, CONTROL_PLANE, "v2", false);
        assert!(plan(&new, &set.views()).is_empty());
        set.m[1].4 = true;
        assert_eq!(
            plan(&new, &set.views()),
            [Action::Drain {
                machine: "control-plane-0".into()
            }]
        );
    }

    #[test]
    fn scale_down_drains_the_newest() {
        let exp = tkc("v1", 1, 1);
        let mut set = Set::new();
        set.add(&exp, CONTROL_PLANE, "v1", true);
        for _ in 0..3 {
            set.add(&exp, "workers", "v1", true);
        }
        assert_eq!(
            plan(&exp, &set.views()),
            [
                Action::Drain {
                    machine: "workers-2".into()
                },
                Action::Drain {
                    machine: "workers-1".into()
                }
            ]
        );
    }
}
