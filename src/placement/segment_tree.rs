//! A fixed-size segment tree over hosts with a per-node summary, searched
//! with pruning. Leaves are hosts in id order, so a left-to-right search
//! breaks ties by the lowest id.

/// `merge` must be a join (commutative, associative, idempotent; e.g. a
/// componentwise max or min), which [`SegmentTree::set`] relies on.
pub trait Summary: Copy + PartialEq {
    /// The summary of an empty slot (padding, or an ineligible host).
    const EMPTY: Self;
    fn merge(a: &Self, b: &Self) -> Self;
}

pub struct SegmentTree<S: Summary> {
    leaves: usize,
    nodes: Vec<S>,
}

impl<S: Summary> SegmentTree<S> {
    pub fn new(values: &[S]) -> Self {
        let leaves = values.len().next_power_of_two().max(1);
        let mut nodes = vec![S::EMPTY; 2 * leaves];
        nodes[leaves..leaves + values.len()].copy_from_slice(values);
        for i in (1..leaves).rev() {
            nodes[i] = S::merge(&nodes[2 * i], &nodes[2 * i + 1]);
        }
        SegmentTree { leaves, nodes }
    }

    pub fn set(&mut self, leaf: usize, value: S) {
        let mut i = self.leaves + leaf;
        let old = std::mem::replace(&mut self.nodes[i], value);
        if S::merge(&old, &value) == value {
            // The leaf only grew (a VM left): each ancestor is its old
            // summary joined with `value`, so siblings need not be read.
            while i > 1 {
                i /= 2;
                let merged = S::merge(&self.nodes[i], &value);
                if self.nodes[i] == merged {
                    break;
                }
                self.nodes[i] = merged;
            }
            return;
        }
        // The leaf shrank: each ancestor is recomputed from the node below
        // (kept in `below`) and that node's sibling, one read per level.
        let mut below = value;
        while i > 1 {
            let sibling = self.nodes[i ^ 1];
            i /= 2;
            let merged = S::merge(&below, &sibling);
            // Ancestors summarise this node only: an unchanged node leaves
            // them unchanged too.
            if self.nodes[i] == merged {
                break;
            }
            self.nodes[i] = merged;
            below = merged;
        }
    }

    /// Starts loading `leaf` and its lowest ancestors, the nodes an update of
    /// it reads and writes that are unlikely to be cached in a big tree (the
    /// top levels are touched by every search and stay cached).
    pub fn prefetch_path(&self, leaf: usize) {
        let mut i = self.leaves + leaf;
        for _ in 0..4 {
            if let Some(node) = self.nodes.get(i) {
                crate::hint::prefetch(node);
            }
            i /= 2;
        }
    }

    pub fn root(&self) -> usize {
        1
    }

    pub fn node(&self, i: usize) -> &S {
        &self.nodes[i]
    }

    pub fn is_leaf(&self, i: usize) -> bool {
        i >= self.leaves
    }

    /// The host index of leaf node `i`.
    pub fn leaf_index(&self, i: usize) -> usize {
        i - self.leaves
    }

    /// Smallest and largest host index under node `i`.
    pub fn first_leaf(&self, mut i: usize) -> usize {
        while !self.is_leaf(i) {
            i *= 2;
        }
        self.leaf_index(i)
    }
}
