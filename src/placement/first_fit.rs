//! First-fit: the lowest host id that is eligible and has room. A segment
//! tree keeps the largest free amount of each resource per subtree; a subtree
//! whose maxima cannot hold the request is skipped. The maxima may come from
//! different hosts, so a subtree that passes can still hold no fit; the
//! search then backtracks, which is rare when one resource binds.
//!
//! Worlds without GPUs keep only cpu and memory per node: 16 bytes, so a
//! node's four children fill exactly one cache line (24 bytes with GPUs).

use super::segment_tree::{SegmentTree, Summary};
use crate::model::{HostId, Resources};

/// A node's largest free amounts; `may_hold` is exact at a leaf.
trait Room: Summary {
    fn free(r: &Resources) -> Self;
    fn may_hold(&self, r: &Resources) -> bool;
}

#[derive(Clone, Copy, PartialEq)]
struct MaxFree {
    cpu: u64,
    memory: u64,
    gpu: u64,
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

impl Room for MaxFree {
    fn free(r: &Resources) -> Self {
        MaxFree {
            cpu: r.cpu_millis,
            memory: r.memory_bytes,
            gpu: r.gpu_millis,
        }
    }
    fn may_hold(&self, r: &Resources) -> bool {
        r.cpu_millis <= self.cpu && r.memory_bytes <= self.memory && r.gpu_millis <= self.gpu
    }
}

/// [`MaxFree`] for worlds where no host has a GPU.
#[derive(Clone, Copy, PartialEq)]
struct MaxFreeNoGpu {
    cpu: u64,
    memory: u64,
}

impl Summary for MaxFreeNoGpu {
    const EMPTY: Self = MaxFreeNoGpu { cpu: 0, memory: 0 };
    fn merge(a: &Self, b: &Self) -> Self {
        MaxFreeNoGpu {
            cpu: a.cpu.max(b.cpu),
            memory: a.memory.max(b.memory),
        }
    }
}

impl Room for MaxFreeNoGpu {
    fn free(r: &Resources) -> Self {
        MaxFreeNoGpu {
            cpu: r.cpu_millis,
            memory: r.memory_bytes,
        }
    }
    fn may_hold(&self, r: &Resources) -> bool {
        r.cpu_millis <= self.cpu && r.memory_bytes <= self.memory && r.gpu_millis == 0
    }
}

pub struct FirstFit(Tree);

enum Tree {
    NoGpu(Index<MaxFreeNoGpu>),
    Gpu(Index<MaxFree>),
}

impl FirstFit {
    pub fn new(capacities: &[Resources]) -> Self {
        if capacities.iter().all(|c| c.gpu_millis == 0) {
            FirstFit(Tree::NoGpu(Index::new(capacities)))
        } else {
            FirstFit(Tree::Gpu(Index::new(capacities)))
        }
    }

    pub fn update(&mut self, host: HostId, used: Resources, eligible: bool) {
        match &mut self.0 {
            Tree::NoGpu(i) => i.update(host, used, eligible),
            Tree::Gpu(i) => i.update(host, used, eligible),
        }
    }

    /// Starts loading what [`Self::update`] of `host` will touch.
    pub fn prefetch(&self, host: HostId) {
        match &self.0 {
            Tree::NoGpu(i) => i.prefetch(host),
            Tree::Gpu(i) => i.prefetch(host),
        }
    }

    pub fn select(&self, request: &Resources) -> Option<HostId> {
        match &self.0 {
            Tree::NoGpu(i) => i.select(request),
            Tree::Gpu(i) => i.select(request),
        }
    }
}

struct Index<S: Room> {
    capacities: Vec<Resources>,
    tree: SegmentTree<S>,
}

impl<S: Room> Index<S> {
    fn new(capacities: &[Resources]) -> Self {
        let leaves: Vec<S> = capacities.iter().map(S::free).collect();
        Index {
            capacities: capacities.to_vec(),
            tree: SegmentTree::new(&leaves),
        }
    }

    fn update(&mut self, host: HostId, used: Resources, eligible: bool) {
        let h = host.0 as usize;
        let value = if eligible {
            S::free(&self.capacities[h].saturating_sub(&used))
        } else {
            S::EMPTY
        };
        self.tree.set(h, value);
    }

    fn prefetch(&self, host: HostId) {
        let h = host.0 as usize;
        if let Some(capacity) = self.capacities.get(h) {
            crate::hint::prefetch(capacity);
            self.tree.prefetch_path(h);
        }
    }

    fn select(&self, request: &Resources) -> Option<HostId> {
        // Iterative leftmost descent: go to the leftmost child that may hold
        // the request; when none does (a subtree that passed had its maxima
        // from different hosts), move on to the next sibling that may, on
        // the nearest level up that has one.
        let tree = &self.tree;
        let mut node = tree.root();
        if !tree.node(node).may_hold(request) {
            return None;
        }
        loop {
            if tree.is_leaf(node) {
                return Some(HostId(tree.leaf_index(node) as u32));
            }
            let (first, children) = tree.children(node);
            node = match children.iter().position(|c| c.may_hold(request)) {
                Some(k) => first + k,
                None => self.backtrack(node, request)?,
            };
        }
    }

    /// From a dead end at `node`, the next unexplored sibling on the way up
    /// that may hold the request.
    fn backtrack(&self, mut node: usize, request: &Resources) -> Option<usize> {
        while node != self.tree.root() {
            let parent = self.tree.parent(node);
            let (first, children) = self.tree.children(parent);
            let later = node - first + 1;
            if let Some(k) = children[later..].iter().position(|c| c.may_hold(request)) {
                return Some(node + 1 + k);
            }
            node = parent;
        }
        None
    }
}
