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

    pub fn select(&self, request: &Resources) -> Option<HostId> {
        self.leftmost(self.tree.root(), request)
            .map(|h| HostId(h as u32))
    }

    fn leftmost(&self, node: usize, request: &Resources) -> Option<usize> {
        if !self.tree.node(node).may_hold(request) {
            return None;
        }
        if self.tree.is_leaf(node) {
            return Some(self.tree.leaf_index(node));
        }
        self.leftmost(2 * node, request)
            .or_else(|| self.leftmost(2 * node + 1, request))
    }
}

fn free_of(r: &Resources) -> MaxFree {
    MaxFree {
        cpu: r.cpu_millis,
        memory: r.memory_bytes,
        gpu: r.gpu_millis,
    }
}
