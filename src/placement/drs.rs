//! DRS-like balanced placement: the host whose max(cpu%, mem%) after
//! placement is lowest, ties by host id (see [`super::balanced_score`]).
//!
//! Hosts are grouped by capacity class (identical cpu and memory). Within a
//! class a request adds the same fraction to every host, so a subtree's best
//! possible score is bounded below by the score of its least-used cpu and
//! least-used memory (possibly different hosts). A best-first
//! branch-and-bound over each class's segment tree then finds the exact
//! optimum, visiting about one root-to-leaf path when one resource binds.

use super::balanced_score;
use super::segment_tree::{ARITY, SegmentTree, Summary};
use crate::model::{HostId, Resources};

#[derive(Clone, Copy, PartialEq)]
struct MinUsed {
    cpu: u64,
    memory: u64,
    /// Largest free GPU amount in the subtree (GPU is a filter, not scored).
    gpu_free: u64,
}

impl Summary for MinUsed {
    const EMPTY: Self = MinUsed {
        cpu: u64::MAX,
        memory: u64::MAX,
        gpu_free: 0,
    };
    fn merge(a: &Self, b: &Self) -> Self {
        MinUsed {
            cpu: a.cpu.min(b.cpu),
            memory: a.memory.min(b.memory),
            gpu_free: a.gpu_free.max(b.gpu_free),
        }
    }
}

struct Class {
    capacity: Resources,
    /// Host ids of this class, ascending; leaf i is `hosts[i]`.
    hosts: Vec<u32>,
    tree: SegmentTree<MinUsed>,
}

pub struct Drs {
    classes: Vec<Class>,
    /// For each host: (class, leaf).
    slot: Vec<(usize, usize)>,
}

impl Drs {
    pub fn new(capacities: &[Resources]) -> Self {
        let mut classes: Vec<(Resources, Vec<u32>)> = Vec::new();
        let mut slot = Vec::with_capacity(capacities.len());
        for (h, cap) in capacities.iter().enumerate() {
            let key = (cap.cpu_millis, cap.memory_bytes, cap.gpu_millis);
            let c = match classes
                .iter()
                .position(|(c, _)| (c.cpu_millis, c.memory_bytes, c.gpu_millis) == key)
            {
                Some(c) => c,
                None => {
                    classes.push((*cap, Vec::new()));
                    classes.len() - 1
                }
            };
            slot.push((c, classes[c].1.len()));
            classes[c].1.push(h as u32);
        }
        let classes = classes
            .into_iter()
            .map(|(capacity, hosts)| {
                let leaves = vec![used_summary(&capacity, &Resources::ZERO); hosts.len()];
                Class {
                    capacity,
                    hosts,
                    tree: SegmentTree::new(&leaves),
                }
            })
            .collect();
        Drs { classes, slot }
    }

    pub fn update(&mut self, host: HostId, used: Resources, eligible: bool) {
        let (c, leaf) = self.slot[host.0 as usize];
        let class = &mut self.classes[c];
        let value = if eligible {
            used_summary(&class.capacity, &used)
        } else {
            MinUsed::EMPTY
        };
        class.tree.set(leaf, value);
    }

    pub fn select(&self, request: &Resources) -> Option<HostId> {
        let mut best: Option<(u64, u32)> = None;
        for class in &self.classes {
            if let Some(found) = class.best(request, best) {
                best = Some(found);
            }
        }
        best.map(|(_, h)| HostId(h))
    }
}

impl Class {
    /// Lower bound of the score of any fitting host under `node`, or None
    /// when no host under it can fit.
    fn bound(&self, node: usize, r: &Resources) -> Option<u64> {
        let s = self.tree.node(node);
        let cap = &self.capacity;
        // Room left, not used + request: a request near u64::MAX must not
        // wrap into a fit.
        if s.cpu == u64::MAX
            || r.cpu_millis > cap.cpu_millis.saturating_sub(s.cpu)
            || r.memory_bytes > cap.memory_bytes.saturating_sub(s.memory)
            || r.gpu_millis > s.gpu_free
        {
            return None;
        }
        Some(balanced_score(
            cap,
            &Resources::new(s.cpu + r.cpu_millis, s.memory + r.memory_bytes, 0),
        ))
    }

    /// The best (score, host id) in this class that beats `incumbent`.
    fn best(&self, r: &Resources, incumbent: Option<(u64, u32)>) -> Option<(u64, u32)> {
        let mut best = incumbent;
        self.search(self.tree.root(), r, &mut best);
        best.filter(|b| Some(*b) != incumbent)
    }

    fn search(&self, node: usize, r: &Resources, best: &mut Option<(u64, u32)>) {
        let Some(bound) = self.bound(node, r) else {
            return;
        };
        let first_host = self
            .hosts
            .get(self.tree.first_leaf(node))
            .copied()
            .unwrap_or(u32::MAX);
        if best.is_some_and(|b| (bound, first_host) >= b) {
            return;
        }
        if self.tree.is_leaf(node) {
            // At a leaf the bound is the exact score, and the fit was checked.
            *best = Some((bound, self.hosts[self.tree.leaf_index(node)]));
            return;
        }
        // Visit the most promising children first; on equal bounds, the
        // leftmost. Children that cannot fit are not visited at all.
        let (first, _) = self.tree.children(node);
        let mut order = [(0, 0); ARITY];
        let mut fitting = 0;
        for child in first..first + ARITY {
            if let Some(bound) = self.bound(child, r) {
                order[fitting] = (bound, child);
                fitting += 1;
            }
        }
        order[..fitting].sort_unstable();
        for &(_, child) in &order[..fitting] {
            self.search(child, r, best);
        }
    }
}

fn used_summary(capacity: &Resources, used: &Resources) -> MinUsed {
    MinUsed {
        cpu: used.cpu_millis,
        memory: used.memory_bytes,
        gpu_free: capacity.gpu_millis.saturating_sub(used.gpu_millis),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A request near u64::MAX must not wrap the room check into a fit on
    /// a host that already runs something.
    #[test]
    fn a_request_larger_than_any_room_never_fits() {
        let cap = Resources::cores(64, 512);
        let mut drs = Drs::new(&[cap, cap]);
        drs.update(HostId(0), Resources::cores(2, 8), true);
        for huge in [
            Resources::new(u64::MAX, 1, 0),
            Resources::new(1, u64::MAX, 0),
            Resources::new(u64::MAX - 1_000, u64::MAX - 1_000, 0),
        ] {
            assert_eq!(drs.select(&huge), None, "{huge:?}");
        }
        assert_eq!(drs.select(&Resources::cores(62, 504)), Some(HostId(1)));
    }
}
