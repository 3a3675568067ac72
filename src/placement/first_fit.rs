//! First-fit: the lowest host id that is eligible and has room. A segment
//! tree keeps the largest free amount of each resource per subtree; a subtree
//! whose maxima cannot hold the request is skipped. The maxima may come from
//! different hosts, so a subtree that passes can still hold no fit; the
//! search then backtracks, which is rare when one resource binds.

use super::segment_tree::{SegmentTree, Summary};
use crate::model::{HostId, Resources};

#[derive(Clone, Copy, PartialEq)]
struct MaxFree {
    cpu: u64,
    memory: u64,
    gpu: u32,
}

impl Summary for MaxFree {
    const EMPTY: Self = MaxFree {
        cpu: 0,
        memory: 0,
        gpu: 0,
    };
    fn merge(a: &Self, b: &Self) -> Self {
        MaxFree {
            cpu: a.cpu.max(b.cpu),
            memory: a.memory.max(b.memory),
            gpu: a.gpu.max(b.gpu),
        }
    }
}

impl MaxFree {
    fn may_hold(&self, r: &Resources) -> bool {
        r.cpu_millis <= self.cpu && r.memory_bytes <= self.memory && r.gpu_millis <= self.gpu
    }
}

pub struct FirstFit {
    capacities: Vec<Resources>,
    tree: SegmentTree<MaxFree>,
}

impl FirstFit {
    pub fn new(capacities: &[Resources]) -> Self {
        let leaves: Vec<MaxFree> = capacities.iter().map(free_of).collect();
        FirstFit {
            capacities: capacities.to_vec(),
            tree: SegmentTree::new(&leaves),
        }
    }

    pub fn update(&mut self, host: HostId, used: Resources, eligible: bool) {
        let h = host.0 as usize;
        let value = if eligible {
            free_of(&self.capacities[h].saturating_sub(&used))
        } else {
            MaxFree::EMPTY
        };
        self.tree.set(h, value);
    }

    /// Starts loading what [`Self::update`] of `host` will touch.
    pub fn prefetch(&self, host: HostId) {
        let h = host.0 as usize;
        if let Some(capacity) = self.capacities.get(h) {
            crate::hint::prefetch(capacity);
            self.tree.prefetch_path(h);
        }
    }

    pub fn select(&self, request: &Resources) -> Option<HostId> {
        // Iterative leftmost descent: go left when the left subtree may hold
        // the request, else right; when a subtree that passed turns out to
        // hold no fit (its maxima came from different hosts), climb to the
        // nearest ancestor whose right child is unexplored.
        let tree = &self.tree;
        let mut node = tree.root();
        if !tree.node(node).may_hold(request) {
            return None;
        }
        loop {
            if tree.is_leaf(node) {
                return Some(HostId(tree.leaf_index(node) as u32));
            }
            let left = 2 * node;
            if tree.node(left).may_hold(request) {
                node = left;
            } else if tree.node(left + 1).may_hold(request) {
                node = left + 1;
            } else {
                node = self.backtrack(node, request)?;
            }
        }
    }

    /// From a dead end at `node`, the next unexplored right sibling on the
    /// way up that may hold the request.
    fn backtrack(&self, mut node: usize, request: &Resources) -> Option<usize> {
        while node > 1 {
            let is_left = node.is_multiple_of(2);
            if is_left && self.tree.node(node + 1).may_hold(request) {
                return Some(node + 1);
            }
            node /= 2;
        }
        None
    }
}

fn free_of(r: &Resources) -> MaxFree {
    MaxFree {
        cpu: r.cpu_millis,
        memory: r.memory_bytes,
        gpu: r.gpu_millis,
    }
}
