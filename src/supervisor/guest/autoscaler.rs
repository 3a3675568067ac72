//! The cluster autoscaler's decisions, pure (upstream cluster-autoscaler
//! with the Cluster API provider, reduced to what a simulation needs):
//!
//! - scale up: pending pods that fit no existing node are packed onto the
//!   pools' upcoming nodes (asked for, not yet joined), then onto new nodes
//!   of the pool the expander picks: `first` (pacsim's default) takes each
//!   pod to the first pool by name that can hold it and is below max;
//!   `least-waste` and `most-pods` (upstream's) bin-pack the pods onto each
//!   pool's would-be new nodes and grow the one pool whose nodes would idle
//!   least, or take the most pods;
//! - scale down: a node whose requests stay below the utilization threshold
//!   for the unneeded time, and whose pods all fit on the other nodes, is
//!   removed, one per pool per scan, never below min. Nothing is scaled
//!   down while a scale-up or a deletion is in flight or pods are pending.

use super::place::{NodeFit, POOL_LABEL, labels_match};
use crate::api::objects::PodSpec;
use crate::model::Resources;
use crate::scenario::Expander;
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
pub fn scale_up(
    pools: &[PoolView],
    pending: &[&PodSpec],
    expander: Expander,
) -> BTreeMap<String, u32> {
    let added = match expander {
        Expander::First => grow_first_pools(pools, pending),
        Expander::LeastWaste | Expander::MostPods => grow_best_pool(pools, pending, expander),
    };
    pools
        .iter()
        .zip(added)
        .filter(|(_, n)| *n > 0)
        .map(|(p, n)| (p.name.clone(), p.desired + n))
        .collect()
}

/// Nodes asked for and not yet joined, empty: (pool, free).
fn upcoming_nodes(pools: &[PoolView]) -> Vec<(usize, Resources)> {
    let mut nodes = Vec::new();
    for (i, p) in pools.iter().enumerate() {
        for _ in p.nodes..p.desired {
            nodes.push((i, p.node_capacity));
        }
    }
    nodes
}

/// Whether pool `i`'s nodes (labels, one node's capacity) could run `spec`.
fn pool_fits(
    pools: &[PoolView],
    i: usize,
    spec: &PodSpec,
    req: &Resources,
    free: &Resources,
) -> bool {
    req.fits_in(free) && labels_match(spec, &pools[i].labels())
}

/// The `first` expander: pod by pod, onto upcoming nodes, else onto a new
/// node of the first pool (name order) below max that can hold it.
fn grow_first_pools(pools: &[PoolView], pending: &[&PodSpec]) -> Vec<u32> {
    // Upcoming nodes are empty nodes already: pods wait for them first.
    let mut virtual_nodes = upcoming_nodes(pools);
    let mut added = vec![0u32; pools.len()];
    for spec in pending {
        let req = effective_requests(spec);
        let fits = |i: usize, free: &Resources| pool_fits(pools, i, spec, &req, free);
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
    added
}

/// What growing one pool would do for the pods left waiting.
struct GrowOption {
    pool: usize,
    nodes: u32,
    pods: usize,
    /// Idle share of the new nodes' cpu plus that of their memory (0..=2).
    waste: f64,
}

/// Upstream's way: the pods upcoming nodes cannot take are bin-packed onto
/// new nodes of each pool in turn (up to its max), and the expander picks
/// one pool to grow. Ties go to the first pool by name.
fn grow_best_pool(pools: &[PoolView], pending: &[&PodSpec], expander: Expander) -> Vec<u32> {
    let mut upcoming = upcoming_nodes(pools);
    let waiting: Vec<(&PodSpec, Resources)> = pending
        .iter()
        .map(|spec| (*spec, effective_requests(spec)))
        .filter(|(spec, req)| {
            match upcoming
                .iter_mut()
                .find(|(i, free)| pool_fits(pools, *i, spec, req, free))
            {
                Some(node) => {
                    node.1 = node.1.saturating_sub(req);
                    false
                }
                None => true,
            }
        })
        .collect();
    let options = (0..pools.len()).filter_map(|i| grow_option(pools, i, &waiting));
    let better = |a: &GrowOption, b: &GrowOption| match expander {
        Expander::MostPods => a.pods > b.pods,
        _ => a.waste < b.waste || (a.waste == b.waste && a.pods > b.pods),
    };
    let best = options.fold(None::<GrowOption>, |best, o| match best {
        Some(b) if !better(&o, &b) => Some(b),
        _ => Some(o),
    });
    let mut added = vec![0u32; pools.len()];
    if let Some(o) = best {
        added[o.pool] = o.nodes;
    }
    added
}

/// First-fit of the waiting pods onto new nodes of pool `i`, as many as its
/// max allows; `None` when it would take none of them.
fn grow_option(
    pools: &[PoolView],
    i: usize,
    waiting: &[(&PodSpec, Resources)],
) -> Option<GrowOption> {
    let p = &pools[i];
    let room = p.bounds.map_or(0, |(_, max)| max.saturating_sub(p.desired));
    let mut nodes: Vec<Resources> = Vec::new();
    let mut requested = Resources::ZERO;
    let mut pods = 0;
    for (spec, req) in waiting {
        if !pool_fits(pools, i, spec, req, &p.node_capacity) {
            continue;
        }
        match nodes.iter().position(|free| req.fits_in(free)) {
            Some(k) => nodes[k] = nodes[k].saturating_sub(req),
            None if (nodes.len() as u32) < room => nodes.push(p.node_capacity.saturating_sub(req)),
            None => continue,
        }
        requested += *req;
        pods += 1;
    }
    if pods == 0 {
        return None;
    }
    let n = nodes.len() as u64;
    let idle = |asked: u64, one: u64| {
        let total = (one * n) as f64;
        if total == 0.0 {
            0.0
        } else {
            (total - asked as f64) / total
        }
    };
    Some(GrowOption {
        pool: i,
        nodes: nodes.len() as u32,
        pods,
        waste: idle(requested.cpu_millis, p.node_capacity.cpu_millis)
            + idle(requested.memory_bytes, p.node_capacity.memory_bytes),
    })
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
            scale_up(&pools, &[&p2, &p2, &p3], Expander::First),
            BTreeMap::from([("a".to_string(), 3)])
        );
        // Capped by max.
        assert_eq!(
            scale_up(&pools, &[&p3, &p3, &p3], Expander::First),
            BTreeMap::from([("a".to_string(), 3)])
        );
        // Too big for the pool's class: nothing.
        assert!(scale_up(&pools, &[&pod(5)], Expander::First).is_empty());
    }

    fn grown(pools: &[PoolView], pods: &[&PodSpec], e: Expander) -> Vec<(String, u32)> {
        scale_up(pools, pods, e).into_iter().collect()
    }

    #[test]
    fn least_waste_grows_the_pool_whose_new_nodes_idle_least() {
        // Two 2-core pods: one 16-core node would idle 3/4 of its cpu, one
        // 4-core node none of it.
        let pools = [
            pool("a-big", 16, Some((0, 4)), 0),
            pool("b-small", 4, Some((0, 4)), 0),
        ];
        let p2 = pod(2);
        assert_eq!(
            grown(&pools, &[&p2, &p2], Expander::LeastWaste),
            [("b-small".to_string(), 1)]
        );
        assert_eq!(
            grown(&pools, &[&p2, &p2], Expander::First),
            [("a-big".to_string(), 1)]
        );
        // Equal waste: the one taking more pods, then the first by name.
        let twins = [pool("x", 4, Some((0, 4)), 0), pool("y", 4, Some((0, 4)), 0)];
        assert_eq!(
            grown(&twins, &[&p2, &p2], Expander::LeastWaste),
            [("x".to_string(), 1)]
        );
    }

    #[test]
    fn most_pods_grows_the_pool_that_takes_most_and_only_that_one() {
        // "a" may add one 4-core node (one 3-core pod), "b" three.
        let pools = [pool("a", 4, Some((1, 2)), 1), pool("b", 4, Some((0, 3)), 0)];
        let p3 = pod(3);
        let pods = [&p3, &p3, &p3];
        assert_eq!(
            grown(&pools, &pods, Expander::MostPods),
            [("b".to_string(), 3)]
        );
        // `first` grows both: "a" to its max, the rest onto "b".
        assert_eq!(
            grown(&pools, &pods, Expander::First),
            [("a".to_string(), 2), ("b".to_string(), 2)]
        );
    }

    #[test]
    fn upcoming_nodes_absorb_pending_pods_and_fixed_pools_never_grow() {
        let mut p = pool("a", 4, Some((1, 5)), 3);
        p.nodes = 1; // two nodes on their way
        let fixed = pool("b", 16, None, 1);
        let p4 = pod(4);
        for e in [Expander::First, Expander::LeastWaste, Expander::MostPods] {
            assert!(grown(&[p.clone(), fixed.clone()], &[&p4, &p4], e).is_empty());
            assert_eq!(
                grown(&[p.clone(), fixed.clone()], &[&p4, &p4, &p4], e),
                [("a".to_string(), 4)]
            );
            assert!(grown(&[p.clone(), fixed.clone()], &[&pod(5)], e).is_empty());
        }
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
