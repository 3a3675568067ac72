//! The cluster autoscaler's decisions, pure (upstream cluster-autoscaler
//! with the Cluster API provider, reduced to what a simulation needs):
//!
//! - scale up: pending pods that fit no existing node are packed onto the
//!   pools' upcoming nodes (asked for, not yet joined), then onto new nodes
//!   of the first pool (name order) that can hold them and is below max;
//! - scale down: a node whose requests stay below the utilization threshold
//!   for the unneeded time, and whose pods all fit on the other nodes, is
//!   removed, one per pool per scan, never below min. Nothing is scaled
//!   down while a scale-up or a deletion is in flight or pods are pending.

use super::place::{NodeFit, POOL_LABEL, labels_match};
use crate::model::Resources;
use crate::supervisor::objects::PodSpec;
use crate::supervisor::scheduling::{Labels, effective_requests};
use std::collections::BTreeMap;

/// A worker pool as the autoscaler sees it.
#[derive(Clone, Debug)]
pub struct PoolView {
    pub name: String,
    /// One node's capacity (the pool's VM class hardware).
    pub node_capacity: Resources,
    /// (min, max) when it autoscales.
    pub bounds: Option<(u32, u32)>,
    /// Replicas asked of Cluster API.
    pub desired: u32,
    /// Nodes that have joined (Ready or not).
    pub nodes: u32,
}

impl PoolView {
    fn labels(&self) -> Labels {
        [(POOL_LABEL.to_string(), self.name.clone())].into()
    }
}

/// New replicas per pool that should grow so the pending pods fit.
pub fn scale_up(pools: &[PoolView], pending: &[&PodSpec]) -> BTreeMap<String, u32> {
    // Upcoming nodes are empty nodes already: pods wait for them first.
    let mut virtual_nodes: Vec<(usize, Resources)> = Vec::new();
    for (i, p) in pools.iter().enumerate() {
        for _ in p.nodes..p.desired {
            virtual_nodes.push((i, p.node_capacity));
        }
    }
    let mut added = vec![0u32; pools.len()];
    for spec in pending {
        let req = effective_requests(spec);
        let fits = |i: usize, free: &Resources| {
            req.fits_in(free) && labels_match(spec, &pools[i].labels())
        };
        if let Some(v) = virtual_nodes.iter_mut().find(|(i, free)| fits(*i, free)) {
            v.1 = v.1.saturating_sub(&req);
            continue;
        }
        let grow = pools.iter().enumerate().position(|(i, p)| {
            p.bounds.is_some_and(|(_, max)| p.desired + added[i] < max) && fits(i, &p.node_capacity)
        });
        if let Some(i) = grow {
            added[i] += 1;
            virtual_nodes.push((i, pools[i].node_capacity.saturating_sub(&req)));
        }
        // Otherwise no pool can ever hold it: it does not trigger a scale-up.
    }
    pools
        .iter()
        .zip(added)
        .filter(|(_, n)| *n > 0)
        .map(|(p, n)| (p.name.clone(), p.desired + n))
        .collect()
}

/// Requests below `pct` percent of capacity in both cpu and memory
/// (upstream: max(cpu, memory) utilization < threshold).
pub fn underutilized(node: &NodeFit, pct: u32) -> bool {
    let below = |used: u64, cap: u64| (used as u128) * 100 < (pct as u128) * (cap as u128);
    below(node.requested.cpu_millis, node.capacity.cpu_millis)
        && below(node.requested.memory_bytes, node.capacity.memory_bytes)
}

/// Whether every pod of a node could move to `others` (first fit, in
/// name order, with what each took accounted); `others` is updated.
pub fn pods_fit_elsewhere(pods: &[&PodSpec], others: &mut [NodeFit]) -> bool {
    let mut trial = others.to_vec();
    for spec in pods {
        let req = effective_requests(spec);
        let Some(n) = trial
            .iter_mut()
            .find(|n| super::place::allowed(spec, n) && req.fits_in(&n.free()))
        else {
            return false;
        };
        n.requested += req;
    }
    others.clone_from_slice(&trial);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(name: &str, cores: u64, bounds: Option<(u32, u32)>, desired: u32) -> PoolView {
        PoolView {
            name: name.into(),
            node_capacity: Resources::cores(cores, 4 * cores),
            bounds,
            desired,
            nodes: desired,
        }
    }

    fn pod(cores: u64) -> PodSpec {
        PodSpec {
            requests: Resources::cores(cores, cores),
            ..PodSpec::default()
        }
    }

    #[test]
    fn adds_nodes_until_the_pending_pods_fit_or_max() {
        let pools = [pool("a", 4, Some((1, 3)), 1)];
        let (p2, p3) = (pod(2), pod(3));
        // 2+2 on one new node, 3 on another.
        assert_eq!(
            scale_up(&pools, &[&p2, &p2, &p3]),
            BTreeMap::from([("a".to_string(), 3)])
        );
        // Capped by max.
        assert_eq!(
            scale_up(&pools, &[&p3, &p3, &p3]),
            BTreeMap::from([("a".to_string(), 3)])
        );
        // Too big for the pool's class: nothing.
        assert!(scale_up(&pools, &[&pod(5)]).is_empty());
    }

    #[test]
    fn upcoming_nodes_absorb_pending_pods_and_fixed_pools_never_grow() {
        let mut p = pool("a", 4, Some((1, 5)), 3);
        p.nodes = 1; // two nodes on their way
        let fixed = pool("b", 16, None, 1);
        let p4 = pod(4);
        assert!(scale_up(&[p.clone(), fixed.clone()], &[&p4, &p4]).is_empty());
        assert_eq!(
            scale_up(&[p, fixed], &[&p4, &p4, &p4]),
            BTreeMap::from([("a".to_string(), 4)])
        );
    }

    #[test]
    fn scale_down_needs_low_use_and_room_elsewhere() {
        let n = |name: &str, used: u64| super::super::place::tests::node(name, 4, used, false);
        assert!(underutilized(&n("x", 1), 50));
        assert!(!underutilized(&n("x", 2), 50));
        let p1 = pod(1);
        let mut others = vec![n("a", 3), n("b", 2)];
        assert!(pods_fit_elsewhere(&[&p1, &p1], &mut others));
        assert_eq!(others[1].requested.cpu_millis, 3000);
        let p2 = pod(2);
        let mut others = vec![n("a", 3), n("b", 3)];
        assert!(!pods_fit_elsewhere(&[&p2], &mut others));
        assert_eq!(others[0].requested.cpu_millis, 3000);
    }
}
